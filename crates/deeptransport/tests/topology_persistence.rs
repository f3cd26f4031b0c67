//! Vietoris–Rips persistence (`topology::persistence`, issue 15): exact agreement with a textbook
//! boundary-matrix reduction of the whole filtration, closed forms on circles and polygons,
//! ripser.py's diagrams, determinism across thread counts, and input validation.

use deeptransport::Error;
use deeptransport::kernel::pairwise;
use deeptransport::topology::persistence::{
    Diagrams, PersistenceOptions, diameter, rips, rips_from_distances, significant_classes,
};
use ndarray::{Array2, array};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::HashMap;
use std::f64::consts::PI;
use std::path::PathBuf;

const FULL: PersistenceOptions = PersistenceOptions {
    max_dim: 1,
    threshold: None,
};

fn with_threshold(t: f64) -> PersistenceOptions {
    PersistenceOptions {
        max_dim: 1,
        threshold: Some(t),
    }
}

/// Intervals `(birth, death)`.
type Pairs = Vec<(f64, f64)>;

/// The textbook algorithm on the whole 2-skeleton: every simplex of dimension ≤ 2 with diameter
/// ≤ `t`, ordered by (diameter, dimension, vertices lexicographically) — a different tie-break
/// from the library's, which the diagram must not depend on — the boundary matrix reduced
/// column by column over Z/2, pairs (σ, τ) read off the pivots, unpaired simplices essential.
/// Returns (H₀, H₁) without zero-length pairs, sorted like the library's.
fn reference(d: &Array2<f64>, t: f64) -> (Pairs, Pairs) {
    let n = d.nrows();
    let mut simplices: Vec<(f64, Vec<usize>)> = (0..n).map(|i| (0.0, vec![i])).collect();
    for i in 0..n {
        for j in i + 1..n {
            if d[[i, j]] <= t {
                simplices.push((d[[i, j]], vec![i, j]));
            }
            for k in j + 1..n {
                let diam = d[[i, j]].max(d[[i, k]]).max(d[[j, k]]);
                if diam <= t {
                    simplices.push((diam, vec![i, j, k]));
                }
            }
        }
    }
    simplices.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.len().cmp(&b.1.len()))
            .then(a.1.cmp(&b.1))
    });
    let position: HashMap<Vec<usize>, usize> = simplices
        .iter()
        .enumerate()
        .map(|(p, s)| (s.1.clone(), p))
        .collect();
    let mut columns: Vec<Vec<usize>> = Vec::with_capacity(simplices.len());
    let mut low_of: HashMap<usize, usize> = HashMap::new();
    let mut paired = vec![false; simplices.len()];
    let mut pairs = Vec::new();
    for (p, (_, verts)) in simplices.iter().enumerate() {
        let mut col: Vec<usize> = if verts.len() == 1 {
            Vec::new()
        } else {
            (0..verts.len())
                .map(|skip| {
                    let facet: Vec<usize> = verts
                        .iter()
                        .enumerate()
                        .filter(|&(q, _)| q != skip)
                        .map(|(_, &v)| v)
                        .collect();
                    position[&facet]
                })
                .collect()
        };
        col.sort_unstable();
        while let Some(&low) = col.last() {
            let Some(&other) = low_of.get(&low) else {
                break;
            };
            // Z/2 sum of two sorted columns.
            let mut sum = Vec::new();
            let (a, b) = (&col, &columns[other]);
            let (mut x, mut y) = (0, 0);
            while x < a.len() || y < b.len() {
                if y == b.len() || (x < a.len() && a[x] < b[y]) {
                    sum.push(a[x]);
                    x += 1;
                } else if x == a.len() || b[y] < a[x] {
                    sum.push(b[y]);
                    y += 1;
                } else {
                    x += 1;
                    y += 1;
                }
            }
            col = sum;
        }
        if let Some(&low) = col.last() {
            low_of.insert(low, p);
            paired[low] = true;
            paired[p] = true;
            pairs.push((low, p));
        }
        columns.push(col);
    }
    let (mut h0, mut h1) = (Vec::new(), Vec::new());
    for (b, dth) in pairs {
        let (birth, death) = (simplices[b].0, simplices[dth].0);
        if death > birth {
            match simplices[b].1.len() {
                1 => h0.push((birth, death)),
                2 => h1.push((birth, death)),
                _ => {}
            }
        }
    }
    for (p, (v, verts)) in simplices.iter().enumerate() {
        if !paired[p] {
            match verts.len() {
                1 => h0.push((*v, f64::INFINITY)),
                2 => h1.push((*v, f64::INFINITY)),
                _ => {}
            }
        }
    }
    let order = |a: &(f64, f64), b: &(f64, f64)| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0));
    h0.sort_by(order);
    h1.sort_by(order);
    (h0, h1)
}

fn uniform(rng: &mut ChaCha8Rng, n: usize, d: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0..1.0))
}

/// Checks `rips` (points) and `rips_from_distances` against [`reference`] at threshold `t`
/// (`None`: the whole filtration — the library stops at the enclosing radius, which must not
/// change anything).
fn check_against_reference(x: &Array2<f64>, t: Option<f64>) -> Result<(), TestCaseError> {
    let d = pairwise::distance_matrix(x.view());
    let (h0, h1) = reference(&d, t.unwrap_or(f64::INFINITY));
    let opts = PersistenceOptions {
        max_dim: 1,
        threshold: t,
    };
    let ours = rips(x.view(), &opts).unwrap();
    prop_assert_eq!(&ours.h0, &h0, "H0, threshold {:?}", t);
    prop_assert_eq!(&ours.h1, &h1, "H1, threshold {:?}", t);
    prop_assert_eq!(rips_from_distances(d.view(), &opts).unwrap(), ours.clone());
    let h0_only = rips(
        x.view(),
        &PersistenceOptions {
            max_dim: 0,
            threshold: t,
        },
    )
    .unwrap();
    prop_assert_eq!(&h0_only.h0, &h0);
    prop_assert!(h0_only.h1.is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// The diagrams equal the textbook reduction's exactly (the same distances, so equal bits),
    /// on continuous clouds and on integer-grid clouds (many tied distances, duplicate points),
    /// for the whole filtration and for thresholds below the enclosing radius (essential H₁
    /// classes, several components).
    #[test]
    fn diagrams_equal_the_boundary_matrix_reduction(
        n in 1usize..=12,
        d in 1usize..=3,
        seed in any::<u64>(),
        grid in any::<bool>(),
        fraction in 0.0f64..1.0,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = uniform(&mut rng, n, d);
        if grid {
            x.mapv_inplace(|v| (v * 1.6).round());
        }
        check_against_reference(&x, None)?;
        let diam = diameter(x.view());
        check_against_reference(&x, Some(fraction * diam))?;
        // A threshold exactly at a tied distance.
        let dm = pairwise::distance_matrix(x.view());
        check_against_reference(&x, Some(dm[[0, n - 1]]))?;
    }
}

/// Larger clouds than the property test (n = 40, 9880 triangles), where columns need long
/// reductions: still equal to the textbook reduction.
#[test]
fn forty_points_equal_the_boundary_matrix_reduction() {
    for seed in 0..6 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = uniform(&mut rng, 40, 2 + (seed as usize % 2));
        if seed >= 3 {
            x.mapv_inplace(|v| (v * 2.5).round());
        }
        check_against_reference(&x, None).unwrap();
        let diam = diameter(x.view());
        check_against_reference(&x, Some(0.3 * diam)).unwrap();
    }
}

fn circle(angles: &[f64], r: f64) -> Array2<f64> {
    Array2::from_shape_fn((angles.len(), 2), |(i, k)| {
        if k == 0 {
            r * angles[i].cos()
        } else {
            r * angles[i].sin()
        }
    })
}

/// A dense random sample of a circle of radius r with largest angular gap g has one H₁ bar:
/// born exactly when the last gap's chord `2r·sin(g/2)` enters (before that the sample is a
/// union of arcs), and dying in `[√3·r, 2r·sin(π/3 + g/2)]`. Lower bound: while ε < √3·r every
/// simplex spans an arc < 2π/3, so its convex hull misses the centre and the cycle keeps winding
/// number 1 in ℝ² ∖ {0}. Upper bound: sample points a, b, c within g/2 of a rotated inscribed
/// equilateral triangle are pairwise within arcs ≤ 2π/3 + g; at ε = 2r·sin(π/3 + g/2) the points
/// of each arc form a simplex, so the cycle is homologous to ∂(abc), a boundary. The bound
/// tolerates √3·r·(1 − 4ε) below for the rounding of the chords.
#[test]
fn circle_sample_has_one_loop_dying_within_the_sampling_gap_of_root_three_r() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (n, r) in [(200, 1.0), (400, 2.5), (97, 0.3)] {
        let mut angles: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..2.0 * PI)).collect();
        angles.sort_by(f64::total_cmp);
        let x = circle(&angles, r);
        // The largest gap and its chord, from the same distances the library computes.
        let (mut g, mut chord) = (0.0f64, 0.0f64);
        for i in 0..n {
            let j = (i + 1) % n;
            let gap = (angles[j] - angles[i]).rem_euclid(2.0 * PI);
            if gap > g {
                g = gap;
                chord =
                    pairwise::distance(x.row(i).as_slice().unwrap(), x.row(j).as_slice().unwrap());
            }
        }
        let dg = rips(x.view(), &FULL).unwrap();
        assert_eq!(dg.h1.len(), 1, "n = {n}: {:?}", dg.h1);
        let (birth, death) = dg.h1[0];
        assert_eq!(birth, chord, "n = {n}");
        let (lo, hi) = (3f64.sqrt() * r, 2.0 * r * (PI / 3.0 + g / 2.0).sin());
        assert!(
            death >= lo * (1.0 - 4.0 * f64::EPSILON) && death <= hi,
            "n = {n}: death {death} outside [{lo}, {hi}] (gap {g})"
        );
        assert_eq!(dg.h0.iter().filter(|p| p.1.is_infinite()).count(), 1);
        assert!(
            dg.h0
                .iter()
                .all(|p| p.0 == 0.0 && (p.1 < chord || p.1.is_infinite()))
        );
    }
}

/// The regular n-gon of radius r: its Rips complex at step k (chord 2r·sin(πk/n)) is a circle
/// while k/n < 1/3 (Adamaszek–Adams: the clique complex of the cyclic graph C_n^k ≃ S¹ for
/// 0 < k/n < 1/3), and at k* = ⌈n/3⌉ the triangle (0, k*, 2k*) — arcs k*, k*, n − 2k* ≤ k* —
/// bounds the cycle (the argument of the circle test). So H₁ is one bar
/// `[2r·sin(π/n), 2r·sin(π⌈n/3⌉/n))`. The computed vertices are rounded, so tied chords differ in
/// their last bits: the bar is born at the largest computed side and dies at one of the computed
/// step-k* chords; both within 1e-14 relative of the closed form, and any other bar is a rounding
/// artefact shorter than 1e-14·r.
#[test]
fn regular_polygon_has_the_closed_form_loop() {
    for (n, r) in [
        (3usize, 1.0),
        (5, 1.0),
        (6, 2.0),
        (12, 1.0),
        (25, 0.7),
        (60, 3.0),
    ] {
        let angles: Vec<f64> = (0..n).map(|m| 2.0 * PI * m as f64 / n as f64).collect();
        let x = circle(&angles, r);
        let dm = pairwise::distance_matrix(x.view());
        let kstar = n.div_ceil(3);
        let dm = &dm;
        let step = |s: usize| (0..n).map(move |m| dm[[m, (m + s) % n]]);
        let side_max = step(1).fold(0.0, f64::max);
        let (chord_lo, chord_hi) = step(kstar).fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let dg = rips(x.view(), &FULL).unwrap();
        let long: Vec<_> = dg.h1.iter().filter(|p| p.1 - p.0 > 1e-14 * r).collect();
        if n == 3 {
            // The triangle itself fills in when its last side enters: no loop.
            assert!(long.is_empty(), "{:?}", dg.h1);
            continue;
        }
        assert_eq!(long.len(), 1, "n = {n}: {:?}", dg.h1);
        let (birth, death) = *long[0];
        assert_eq!(birth, side_max, "n = {n}");
        assert!(
            death >= chord_lo && death <= chord_hi,
            "n = {n}: {death} ∉ [{chord_lo}, {chord_hi}]"
        );
        let closed = (
            2.0 * r * (PI / n as f64).sin(),
            2.0 * r * (PI * kstar as f64 / n as f64).sin(),
        );
        assert!((birth - closed.0).abs() <= 1e-14 * r, "n = {n}");
        assert!((death - closed.1).abs() <= 1e-14 * r, "n = {n}");
    }
}

/// Two linked unit circles (one in the xy-plane about 0, one in the xz-plane about (1, 0, 0);
/// each passes through the other's centre): two long H₁ bars. Each circle's loop dies near
/// ε = 1, when the other circle's point at its centre (distance 1 from all of it) cones it off;
/// every other bar is short, and H₀ has the two circles. Bounds: births below the sampling chord 2π/n·2 (the gaps of 150
/// evenly spaced angles with small jitter), deaths in [0.9, 1.1], other bars shorter than 0.2.
#[test]
fn linked_circles_have_two_long_loops() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let n = 150;
    let mut x = Array2::zeros((2 * n, 3));
    for m in 0..n {
        let a = 2.0 * PI * (m as f64 + rng.random_range(-0.2..0.2)) / n as f64;
        let b = 2.0 * PI * (m as f64 + rng.random_range(-0.2..0.2)) / n as f64;
        x.row_mut(m).assign(&array![a.cos(), a.sin(), 0.0]);
        x.row_mut(n + m)
            .assign(&array![1.0 + b.cos(), 0.0, b.sin()]);
    }
    let dg = rips(x.view(), &FULL).unwrap();
    let long: Vec<_> = dg.h1.iter().filter(|p| p.1 - p.0 > 0.5).collect();
    assert_eq!(long.len(), 2, "{:?}", dg.h1);
    for &&(b, d) in &long {
        assert!(b < 2.0 * 2.0 * PI / n as f64, "birth {b}");
        assert!((0.9..=1.1).contains(&d), "death {d}");
    }
    assert!(
        dg.h1
            .iter()
            .filter(|p| p.1 - p.0 <= 0.5)
            .all(|p| p.1 - p.0 < 0.2)
    );
    assert_eq!(significant_classes(&dg.h1, 0.1 * diameter(x.view())), 2);
    // H₀: the essential class and the merge of the two circles (≈ 0.5 apart, above 10 % of the
    // diameter ≈ 3).
    assert_eq!(significant_classes(&dg.h0, 0.1 * diameter(x.view())), 2);
}

/// Points on a segment (in ℝ³, along a generic direction): the Rips complex of points on a line
/// is a disjoint union of contractible clique complexes of interval graphs, so no loop — only
/// rounding of the embedded coordinates can create one, far shorter than the spacing.
#[test]
fn points_on_a_segment_have_no_loop_longer_than_the_spacing() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let dir = [0.3, -0.5, 0.81];
    let mut t: Vec<f64> = (0..300).map(|_| rng.random_range(0.0..10.0)).collect();
    t.sort_by(f64::total_cmp);
    let x = Array2::from_shape_fn((300, 3), |(i, k)| 1.0 + t[i] * dir[k]);
    let spacing = t.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    let dg = rips(x.view(), &FULL).unwrap();
    assert!(dg.h1.iter().all(|p| p.1 - p.0 < spacing), "{:?}", dg.h1);
    assert!(dg.h1.iter().all(|p| p.1 - p.0 < 1e-12), "{:?}", dg.h1);
    assert_eq!(
        dg.h0.len(),
        300 - t.windows(2).filter(|w| w[0] == w[1]).count()
    );
}

fn npy(name: &str) -> Array2<f64> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/persistence")
        .join(format!("{name}.npy"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let f = npyz::NpyFile::new(&bytes[..]).expect("npy");
    let shape: Vec<usize> = f.shape().iter().map(|&s| s as usize).collect();
    Array2::from_shape_vec((shape[0], shape[1]), f.into_vec().expect("f64")).expect("2-D")
}

fn pairs(a: &Array2<f64>) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = a.rows().into_iter().map(|r| (r[0], r[1])).collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0)));
    v
}

/// The largest difference between two diagrams matched in sorted order (∞ = ∞ counts 0).
fn max_pair_difference(a: &[(f64, f64)], b: &[(f64, f64)]) -> f64 {
    assert_eq!(a.len(), b.len(), "{a:?}\n{b:?}");
    let diff = |x: f64, y: f64| if x == y { 0.0 } else { (x - y).abs() };
    a.iter()
        .zip(b)
        .map(|(p, q)| diff(p.0, q.0).max(diff(p.1, q.1)))
        .fold(0.0, f64::max)
}

/// ripser.py's diagrams (bench/peers/fixtures_persistence.py; 300 points of a noisy torus).
/// On the same f32-rounded distance matrix ripser used, the pairs are equal (to 1e-9; in fact
/// exactly — both compute with those very numbers). From the points, ripser's distances are the
/// `|x|² + |y|² − 2⟨x, y⟩` expansion rounded to f32: every distance moves by at most
/// ≈ 2⁻²⁴·diam ≈ 1.5e-7 (diam ≈ 2.9), so by stability every pair moves by no more; 5e-7 allows it
/// with margin, and no interval is short enough (> 1e-6 here) to vanish or appear.
#[test]
fn diagrams_equal_ripser_py() {
    let x = npy("torus300_x");
    let d32 = pairwise::distance_matrix(x.view()).mapv(|v| v as f32 as f64);
    let ours = rips_from_distances(d32.view(), &FULL).unwrap();
    let (h0, h1) = (pairs(&npy("torus300_dm_h0")), pairs(&npy("torus300_dm_h1")));
    assert!(max_pair_difference(&ours.h0, &h0) <= 1e-9);
    assert!(max_pair_difference(&ours.h1, &h1) <= 1e-9);
    assert_eq!(ours.h1.len(), 79);
    let ours = rips(x.view(), &FULL).unwrap();
    let (h0, h1) = (pairs(&npy("torus300_h0")), pairs(&npy("torus300_h1")));
    let e0 = max_pair_difference(&ours.h0, &h0);
    let e1 = max_pair_difference(&ours.h1, &h1);
    assert!(e0 <= 5e-7 && e1 <= 5e-7, "H0 {e0:e}, H1 {e1:e}");
}

fn noisy_torus(n: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::zeros((n, 3));
    for mut row in x.rows_mut() {
        let (u, v) = (
            rng.random_range(0.0..2.0 * PI),
            rng.random_range(0.0..2.0 * PI),
        );
        let noise: [f64; 3] = std::array::from_fn(|_| {
            let z: f64 = StandardNormal.sample(&mut rng);
            0.05 * z
        });
        row.assign(&array![
            (1.0 + 0.4 * v.cos()) * u.cos() + noise[0],
            (1.0 + 0.4 * v.cos()) * u.sin() + noise[1],
            0.4 * v.sin() + noise[2]
        ]);
    }
    x
}

fn bits(d: &Diagrams) -> Vec<u64> {
    d.h0.iter()
        .chain(&d.h1)
        .flat_map(|p| [p.0.to_bits(), p.1.to_bits()])
        .chain([d.threshold.to_bits()])
        .collect()
}

/// One and two threads give the same diagrams bit for bit (the parallel parts are per-item
/// deterministic, the reduction sequential), on every SIMD path of the distance kernel.
#[test]
fn diagrams_are_bit_identical_for_one_and_two_threads() {
    let x = noisy_torus(700, 3);
    let run = |threads: usize, path| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        deeptransport::kernel::with_simd_path(path, || {
            pool.install(|| rips(x.view(), &FULL).unwrap())
        })
        .unwrap()
    };
    let one = run(1, deeptransport::kernel::SimdPath::widest());
    assert!(!one.h1.is_empty());
    for path in deeptransport::kernel::SimdPath::supported() {
        assert_eq!(bits(&run(2, path)), bits(&one), "{path}");
    }
}

/// The default threshold is the enclosing radius, and the diagrams equal those of any larger
/// threshold; a user threshold below it leaves classes essential.
#[test]
fn enclosing_radius_is_the_default_threshold() {
    let x = noisy_torus(250, 8);
    let dm = pairwise::distance_matrix(x.view());
    let enclosing = dm
        .rows()
        .into_iter()
        .map(|r| r.iter().fold(0.0, |a: f64, &b| a.max(b)))
        .fold(f64::INFINITY, f64::min);
    let full = rips(x.view(), &FULL).unwrap();
    assert_eq!(full.threshold, enclosing);
    for t in [enclosing, 2.0 * enclosing, f64::INFINITY] {
        assert_eq!(rips(x.view(), &with_threshold(t)).unwrap(), full);
    }
    let low = rips(x.view(), &with_threshold(0.3)).unwrap();
    assert_eq!(low.threshold, 0.3);
    assert!(low.h1.iter().any(|p| p.1.is_infinite()));
    assert!(low.h0.iter().chain(&low.h1).all(|p| p.0 <= 0.3));
}

#[test]
fn single_points_duplicates_and_pairs() {
    let one = rips(array![[1.0, 2.0]].view(), &FULL).unwrap();
    assert_eq!(one.h0, vec![(0.0, f64::INFINITY)]);
    assert!(one.h1.is_empty());
    assert_eq!(one.threshold, 0.0);
    // Duplicates merge at 0: a zero-length pair, omitted.
    let dup = rips(array![[1.0, 2.0], [1.0, 2.0], [4.0, 6.0]].view(), &FULL).unwrap();
    assert_eq!(dup.h0, vec![(0.0, 5.0), (0.0, f64::INFINITY)]);
    // A square: one loop [1, √2).
    let sq = rips(
        array![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]].view(),
        &FULL,
    )
    .unwrap();
    assert_eq!(sq.h1, vec![(1.0, 2f64.sqrt())]);
    assert_eq!(
        sq.h0,
        vec![(0.0, 1.0), (0.0, 1.0), (0.0, 1.0), (0.0, f64::INFINITY)]
    );
}

#[test]
fn invalid_input_is_refused_with_its_location() {
    let mut x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
    x[[1, 1]] = f64::NAN;
    match rips(x.view(), &FULL) {
        Err(Error::NonFinite { row, col, .. }) => assert_eq!((row, col), (2, 2)),
        other => panic!("{other:?}"),
    }
    x[[1, 1]] = f64::NEG_INFINITY;
    assert!(matches!(
        rips(x.view(), &FULL),
        Err(Error::NonFinite { row: 2, col: 2, .. })
    ));
    let empty = Array2::<f64>::zeros((0, 3));
    assert!(matches!(
        rips(empty.view(), &FULL),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        rips_from_distances(Array2::<f64>::zeros((0, 0)).view(), &FULL),
        Err(Error::Empty { .. })
    ));
    let ok = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
    let dim2 = PersistenceOptions {
        max_dim: 2,
        threshold: None,
    };
    assert!(matches!(rips(ok.view(), &dim2), Err(Error::Unsupported(_))));
    for t in [-1.0, f64::NAN, f64::NEG_INFINITY] {
        let e = rips(ok.view(), &with_threshold(t)).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { .. }), "{t}: {e}");
    }
    assert_eq!(rips(ok.view(), &with_threshold(0.0)).unwrap().h0.len(), 3);
    // Distance matrices: shape, sign, diagonal, symmetry, finiteness.
    let dm = pairwise::distance_matrix(ok.view());
    assert!(matches!(
        rips_from_distances(dm.slice(ndarray::s![.., ..2]), &FULL),
        Err(Error::DimensionMismatch { .. })
    ));
    for (i, j, v) in [(0, 1, -1.0), (1, 1, 0.5), (0, 2, 3.0)] {
        let mut bad = dm.clone();
        bad[[i, j]] = v;
        let e = rips_from_distances(bad.view(), &FULL).unwrap_err();
        let want = format!("({}, {})", i + 1, j + 1);
        assert!(e.to_string().contains(&want), "{e}");
    }
    let mut inf = dm.clone();
    inf[[2, 0]] = f64::INFINITY;
    assert!(matches!(
        rips_from_distances(inf.view(), &FULL),
        Err(Error::NonFinite { row: 3, col: 1, .. })
    ));
    // The size limit names the bytes needed (checked before anything is allocated):
    // 23 171² · 8 bytes > 4 GiB.
    let many = Array2::<f64>::zeros((23_171, 1));
    let e = rips(many.view(), &FULL).unwrap_err();
    assert!(
        matches!(&e, Error::Unsupported(m) if m.contains("4295161928 bytes")),
        "{e}"
    );
}

#[test]
fn significant_classes_counts_longer_than_the_bar() {
    let p = [(0.0, 1.0), (0.5, 0.6), (0.2, f64::INFINITY)];
    assert_eq!(significant_classes(&p, 0.5), 2);
    assert_eq!(significant_classes(&p, 0.05), 3);
    assert_eq!(significant_classes(&p, 1.0), 1);
    assert_eq!(
        diameter(array![[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]].view()),
        5.0
    );
}
