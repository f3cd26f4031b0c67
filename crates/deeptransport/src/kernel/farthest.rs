//! Farthest-point (max–min) subsampling: `m` landmarks of a cloud `x_1..x_n`, chosen greedily,
//!
//! ```text
//! l_0 = 0,    l_{s+1} = argmax_i min_{r ≤ s} |x_i − x_{l_r}|
//! ```
//!
//! (ties: the smaller index). The landmarks are a `δ`-net of the cloud with `δ` the last
//! max–min distance, so a subsample keeps every feature of the cloud larger than `2δ` — the
//! standard way to shrink a cloud for persistent homology (de Silva & Carlsson 2004).
//!
//! Distances are direct differences ([`super::nearest::sq_distance`]): exact to rounding for any
//! finite input. Cost `O(n·m·d)`, parallel over the cloud per step; bit-identical for every
//! thread count (each distance is one thread's, and the argmax is a total order).

use super::nearest::sq_distance;
use ndarray::ArrayView2;
use rayon::prelude::*;

/// The indices of `min(m, n)` max–min landmarks of the rows of `x`, in the order chosen (the
/// first is row 0), and for each prefix its covering radius: `radii[s] = max_i min_{r ≤ s}
/// |x_i − x_{l_r}|`, non-increasing (0 once every distinct row is taken; the landmarks stop
/// there). Every prefix of the order is itself a max–min subsample, so one call serves every
/// size: the last radius is the `δ` of the whole result.
pub fn farthest_points(x: ArrayView2<f64>, m: usize) -> (Vec<usize>, Vec<f64>) {
    let n = x.nrows();
    if n == 0 || m == 0 {
        return (Vec::new(), Vec::new());
    }
    let x = x.as_standard_layout();
    let d = x.ncols();
    let flat = x.as_slice().expect("standard layout");
    let row = |i: usize| &flat[i * d..(i + 1) * d];
    let mut nearest = vec![f64::INFINITY; n];
    let mut chosen = vec![0usize];
    let mut radii = Vec::new();
    loop {
        let last = row(*chosen.last().expect("one landmark"));
        nearest
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, r)| *r = r.min(sq_distance(row(i), last)));
        // The farthest row from the landmarks; ties to the smaller index.
        let (far, r2) = nearest.par_iter().enumerate().map(|(i, &r)| (i, r)).reduce(
            || (usize::MAX, f64::NEG_INFINITY),
            |a, b| {
                if b.1 > a.1 || (b.1 == a.1 && b.0 < a.0) {
                    b
                } else {
                    a
                }
            },
        );
        radii.push(r2.sqrt());
        if chosen.len() == m.min(n) || r2 == 0.0 {
            return (chosen, radii);
        }
        chosen.push(far);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn picks_the_extremes_first() {
        let x = array![[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [5.0, 0.0], [5.0, 0.0]];
        let (l, r) = farthest_points(x.view(), 3);
        assert_eq!(l, vec![0, 2, 3]);
        assert_eq!(r, vec![10.0, 5.0, 1.0]);
        // Duplicates are never both chosen: the covering radius reaches 0 first.
        let (l, r) = farthest_points(x.view(), 10);
        assert_eq!(l, vec![0, 2, 3, 1]);
        assert_eq!(r, vec![10.0, 5.0, 1.0, 0.0]);
    }
}
