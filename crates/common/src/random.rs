//! Seeded randomness, small enough to read, for the course's tools (the loss lab's relay, the
//! soak): the same seed gives the same numbers on every machine, every time, so a run repeats.

/// splitmix64 (Steele, Lea and Flood, 2014): a 64-bit counter stepped by a fixed odd constant,
/// then scrambled. The counter is the whole state. Not for secrets; plenty for deciding which
/// datagram to lose or how long a message is.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1), from the top 53 bits (all an f64 can hold).
    pub fn next_fraction(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_gives_the_published_sequence() {
        let mut random = SplitMix64::new(1_234_567);
        let first: Vec<u64> = (0..3).map(|_| random.next_u64()).collect();
        assert_eq!(
            first,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423
            ]
        );
    }

    #[test]
    fn fractions_stay_in_the_unit_interval() {
        let mut random = SplitMix64::new(0);
        assert!((0..10_000).all(|_| (0.0..1.0).contains(&random.next_fraction())));
    }
}
