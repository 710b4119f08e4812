//! Contact-list sizes drawn from a distribution (fixed, uniform, Zipf), and the seeded
//! splitmix64 generator every draw of the model uses.

/// How contact-list sizes are distributed over the population.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SizeDistribution {
    /// Every user has `n` contacts.
    Fixed(u32),
    /// Sizes uniform in `min..=max`.
    Uniform {
        /// Smallest size.
        min: u32,
        /// Largest size.
        max: u32,
    },
    /// Sizes `1..=max` with probability proportional to `1 / k^exponent`.
    Zipf {
        /// Largest size.
        max: u32,
        /// The Zipf exponent (1.0 is classic Zipf).
        exponent: f64,
    },
}

/// A seeded generator of sizes (splitmix64), so a run is reproducible from its seed.
#[derive(Debug, Clone)]
pub struct SizeSampler {
    distribution: SizeDistribution,
    state: u64,
    /// Cumulative weights for Zipf, normalized to 1.0.
    cdf: Vec<f64>,
}

impl SizeSampler {
    /// A sampler for `distribution` seeded with `seed`.
    pub fn new(distribution: SizeDistribution, seed: u64) -> Self {
        let cdf = match distribution {
            SizeDistribution::Zipf { max, exponent } => {
                let weights: Vec<f64> = (1..=max.max(1))
                    .map(|k| 1.0 / f64::from(k).powf(exponent))
                    .collect();
                let total: f64 = weights.iter().sum();
                let mut acc = 0.0;
                weights
                    .iter()
                    .map(|w| {
                        acc += w / total;
                        acc
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        Self {
            distribution,
            state: seed,
            cdf,
        }
    }

    fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.state)
    }

    /// A uniform float in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        unit(&mut self.state)
    }

    /// The next size.
    pub fn sample(&mut self) -> u32 {
        match self.distribution {
            SizeDistribution::Fixed(n) => n,
            SizeDistribution::Uniform { min, max } => {
                let (lo, hi) = (min.min(max), min.max(max));
                let span = u64::from(hi - lo) + 1;
                lo + (self.next_u64() % span) as u32
            }
            SizeDistribution::Zipf { .. } => {
                let u = self.unit();
                let idx = self.cdf.partition_point(|&c| c < u);
                (idx.min(self.cdf.len().saturating_sub(1)) + 1) as u32
            }
        }
    }
}

/// The next value of a splitmix64 generator whose state is `state` (advanced).
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform float in `[0, 1)` from the splitmix64 generator `state`.
pub fn unit(state: &mut u64) -> f64 {
    (splitmix64(state) >> 11) as f64 / (1u64 << 53) as f64
}

/// A draw of an exponential distribution of mean `mean` (the gaps of a Poisson process).
pub fn exponential(state: &mut u64, mean: f64) -> f64 {
    -(1.0 - unit(state)).ln() * mean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_uniform_stay_in_range() {
        let mut s = SizeSampler::new(SizeDistribution::Fixed(7), 1);
        assert!((0..100).all(|_| s.sample() == 7));
        let mut s = SizeSampler::new(SizeDistribution::Uniform { min: 5, max: 10 }, 2);
        let draws: Vec<u32> = (0..10_000).map(|_| s.sample()).collect();
        assert!(draws.iter().all(|d| (5..=10).contains(d)));
        for v in 5..=10 {
            let n = draws.iter().filter(|&&d| d == v).count();
            assert!((1_400..1_950).contains(&n), "value {v} drawn {n} times");
        }
    }

    #[test]
    fn zipf_favours_small_sizes() {
        let mut s = SizeSampler::new(
            SizeDistribution::Zipf {
                max: 100,
                exponent: 1.0,
            },
            3,
        );
        let draws: Vec<u32> = (0..20_000).map(|_| s.sample()).collect();
        assert!(draws.iter().all(|d| (1..=100).contains(d)));
        let ones = draws.iter().filter(|&&d| d == 1).count() as f64 / 20_000.0;
        // P(1) = 1 / H(100) ~= 0.193.
        assert!((0.17..0.22).contains(&ones), "P(1) = {ones}");
        let twos = draws.iter().filter(|&&d| d == 2).count() as f64 / 20_000.0;
        assert!(ones > 1.6 * twos && ones < 2.4 * twos);
    }

    #[test]
    fn exponential_has_its_mean() {
        let mut state = 11;
        let n = 50_000;
        let sum: f64 = (0..n).map(|_| exponential(&mut state, 40.0)).sum();
        let mean = sum / f64::from(n);
        assert!((38.0..42.0).contains(&mean), "mean {mean}");
    }

    #[test]
    fn same_seed_same_draws() {
        let d = SizeDistribution::Zipf {
            max: 50,
            exponent: 1.2,
        };
        let a: Vec<u32> = (0..50)
            .scan(SizeSampler::new(d, 9), |s, _| Some(s.sample()))
            .collect();
        let b: Vec<u32> = (0..50)
            .scan(SizeSampler::new(d, 9), |s, _| Some(s.sample()))
            .collect();
        assert_eq!(a, b);
    }
}
