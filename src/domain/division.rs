//! GB/T 2260 administrative division codes (six digits: province, prefecture, county).

/// Province-level prefixes of GB/T 2260: the 31 provinces, autonomous regions and
/// municipalities of the mainland, plus 71 (Taiwan), 81 (Hong Kong) and 82 (Macau), which
/// the standard lists too. Guizhou is 52.
pub const PROVINCE_PREFIXES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50",
    "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
];

/// Six ASCII digits.
pub fn is_code(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A county-level code of a real province: six digits, a GB/T 2260 province prefix, and
/// not a province (`XX0000`) or prefecture (`XXYY00`) code itself. Whether it names a
/// county that exists is known only for Guizhou (the reference data).
pub fn is_county_level_code(s: &str) -> bool {
    is_code(s) && PROVINCE_PREFIXES.contains(&&s[..2]) && &s[4..] != "00"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_province_prefixes_and_county_level_codes() {
        for ok in ["110101", "430102", "522731", "650102", "710101", "810001", "820001"] {
            assert!(is_county_level_code(ok), "{ok}");
        }
        for bad in ["000000", "999999", "100101", "160101", "700101", "830101", "430100", "430000", "43010", "43010x", "４30102"] {
            assert!(!is_county_level_code(bad), "{bad}");
        }
    }
}
