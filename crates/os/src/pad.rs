//! Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files
//! and Communication with PURBs", PETS 2019).

/// Rounds `len` up so that only the top ~log2(log2(len)) bits may be
/// non-zero: at most 12 % larger, and the padded size leaks O(log log len)
/// bits. `None` only when the result would not fit in a `u64`.
pub fn padme(len: u64) -> Option<u64> {
    if len < 2 {
        return Some(len);
    }
    let e = 63 - u64::from(len.leading_zeros()); // floor(log2 len)
    let s = 64 - u64::from(e.leading_zeros()); // floor(log2 e) + 1
    let last_bits = e - s;
    let mask = (1u64 << last_bits) - 1;
    Some(len.checked_add(mask)? & !mask)
}

#[cfg(test)]
mod tests {
    use super::padme;

    #[test]
    fn bounds_and_overflow() {
        assert_eq!(padme(0), Some(0));
        assert_eq!(padme(1), Some(1));
        for len in [2u64, 3, 100, 1000, 65_536, 1 << 30, (1 << 40) + 7] {
            let p = padme(len).unwrap();
            assert!(
                p >= len && (p - len) as f64 <= len as f64 * 0.12 + 1.0,
                "{len} -> {p}"
            );
            assert_eq!(padme(p), Some(p), "padding is idempotent");
        }
        assert_eq!(padme(u64::MAX), None);
    }
}
