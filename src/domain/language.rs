//! The language a person reads messages in. Messages people read (import errors) are
//! written once in both languages, `中文 / English`; a caller that asks for one language
//! with `Accept-Language` gets that half (Chinese first when it prefers Chinese, English
//! when it prefers English), and a caller that asks for neither gets both, as before.
//! Codes, fields and a problem's `detail` never change with the language: programs switch
//! on those. Pure.

/// A language a message can be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// The first of Chinese and English in an `Accept-Language` value (RFC 9110: by q-value,
/// then in the caller's order; `q=0` refuses a range), or `None` when it names neither
/// (`*`, other languages, nothing).
pub fn preferred(accept_language: &str) -> Option<Lang> {
    let mut ranges: Vec<(Lang, f32)> = accept_language
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let tag = parts.next()?.to_ascii_lowercase();
            let q = parts.find_map(|p| p.strip_prefix("q=")).map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            let primary = tag.split('-').next().unwrap_or_default();
            let lang = match primary {
                "zh" => Lang::Zh,
                "en" => Lang::En,
                _ => return None,
            };
            (q > 0.0).then_some((lang, q))
        })
        .collect();
    // Stable: among equal q-values the caller's order stands.
    ranges.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranges.first().map(|(lang, _)| *lang)
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| matches!(c, '\u{3000}'..='\u{303F}' | '\u{4E00}'..='\u{9FFF}' | '\u{FF00}'..='\u{FFEF}'))
}

/// The `lang` half of a `中文 / English` message: split at the first ` / ` that has Chinese
/// before it and none after (a ` / ` in the Chinese half, as in a column label, has Chinese
/// after it; one in the English half is later). A message without such a split is
/// returned whole.
pub fn narrow(message: &str, lang: Lang) -> &str {
    let split = message.match_indices(" / ").map(|(i, _)| i).find(|&i| has_cjk(&message[..i]) && !has_cjk(&message[i + 3..]));
    match (split, lang) {
        (Some(i), Lang::Zh) => message[..i].trim_end(),
        (Some(i), Lang::En) => message[i + 3..].trim_start(),
        (None, _) => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_language_follows_q_values_then_order() {
        assert_eq!(preferred("zh-CN"), Some(Lang::Zh));
        assert_eq!(preferred("zh-Hans-CN,zh;q=0.9,en;q=0.8"), Some(Lang::Zh));
        assert_eq!(preferred("en-US,en;q=0.9,zh-CN;q=0.8"), Some(Lang::En));
        assert_eq!(preferred("zh;q=0.5, en"), Some(Lang::En));
        assert_eq!(preferred("en, zh"), Some(Lang::En));
        assert_eq!(preferred("zh;q=0, en;q=0.1"), Some(Lang::En));
        assert_eq!(preferred("fr-FR, *"), None);
        assert_eq!(preferred(""), None);
        assert_eq!(preferred("zh;q=bad"), None);
    }

    #[test]
    fn a_bilingual_message_narrows_to_either_half() {
        let m = "单价必须是非负数，最多4位小数 / unit price must be a non-negative number with at most 4 decimal places";
        assert_eq!(narrow(m, Lang::Zh), "单价必须是非负数，最多4位小数");
        assert_eq!(narrow(m, Lang::En), "unit price must be a non-negative number with at most 4 decimal places");
        // A ` / ` inside the Chinese half (a column label) is not the split.
        let m = "列 单价 / unit_price 重复 / the column unit_price appears twice (1.20 / 2)";
        assert_eq!(narrow(m, Lang::Zh), "列 单价 / unit_price 重复");
        assert_eq!(narrow(m, Lang::En), "the column unit_price appears twice (1.20 / 2)");
        // Not bilingual: unchanged.
        assert_eq!(narrow("no such supplier", Lang::Zh), "no such supplier");
        assert_eq!(narrow("只有中文", Lang::En), "只有中文");
    }
}
