//! Built-in data sets the experiments (and the demo) run on.

use deeptransport::measure::{Gaussian, Mixture};
use ndarray::{Array2, array};

/// The 8×8 handwritten digits (UCI, CC BY 4.0; `data/README.md`), compiled into the binary.
const DIGITS_CSV: &str = include_str!("../../../../data/digits.csv");

/// The number of images in [`digits`].
pub const DIGITS_N: usize = 1797;

/// The built-in μ₀ of the demo and of `dae-training`: three anisotropic Gaussian clusters in the
/// plane (weights 0.5, 0.3, 0.2).
pub fn builtin_mixture() -> Mixture {
    let comp = |m: [f64; 2], c: [[f64; 2]; 2]| {
        Gaussian::new(
            array![m[0], m[1]],
            array![[c[0][0], c[0][1]], [c[1][0], c[1][1]]],
        )
        .expect("built-in covariances are SPD")
    };
    Mixture::new(
        array![0.5, 0.3, 0.2],
        vec![
            comp([-2.0, 0.0], [[0.6, 0.25], [0.25, 0.4]]),
            comp([2.0, 1.0], [[0.3, -0.1], [-0.1, 0.5]]),
            comp([0.5, -2.5], [[0.8, 0.0], [0.0, 0.2]]),
        ],
    )
    .expect("built-in weights are valid")
}

/// The digits as `(images, labels)`: 1797 rows of 64 pixel intensities scaled from 0..16 to
/// [0, 1], and the labels 0–9.
pub fn digits() -> (Array2<f64>, Vec<usize>) {
    let mut pixels = Vec::with_capacity(DIGITS_N * 64);
    let mut labels = Vec::with_capacity(DIGITS_N);
    for line in DIGITS_CSV.lines().skip(1) {
        let mut cells = line
            .split(',')
            .map(|c| c.parse::<u8>().expect("digits.csv is integral"));
        labels.push(cells.next().expect("a label") as usize);
        pixels.extend(cells.map(|v| v as f64 / 16.0));
    }
    let images = Array2::from_shape_vec((labels.len(), 64), pixels).expect("64 pixels per row");
    (images, labels)
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_have_1797_images_of_64_pixels_in_the_unit_interval_and_ten_classes() {
        let (x, y) = super::digits();
        assert_eq!(x.dim(), (super::DIGITS_N, 64));
        assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
        let mut counts = [0; 10];
        y.iter().for_each(|&c| counts[c] += 1);
        assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    }
}
