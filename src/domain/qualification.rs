//! Whether a purchase counts as poverty-area procurement under a versioned policy.
//! Pure: the caller supplies the supplier's tags and its origin county's designations.

use chrono::NaiveDate;
use serde::Serialize;

use super::catalog::{QualificationClass, Tag, TagStatus};

/// What a supplier's origin county must satisfy for a tag to qualify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CountyCondition {
    /// The origin county is one of the province's counties.
    InProvince,
    /// The origin county is designated a poverty county on the purchase date.
    PovertyCountyOnDate,
}

/// A qualification policy: data with a version, stated by every report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub version: &'static str,
    /// Tags that can qualify, in attribution priority order, with their county condition.
    pub rules: &'static [(Tag, CountyCondition)],
    /// Only purchases both parties confirmed count toward the target (see
    /// `Figures::counted`); off for `gz-2019`, where every recorded purchase counts.
    pub require_confirmation: bool,
}

impl Policy {
    /// Guizhou 2019 (黔教发〔2019〕 校农结合): poor households and in-province processors
    /// anywhere in the province; cooperatives from poverty counties.
    pub const GZ_2019: Self = Self {
        version: "gz-2019",
        rules: &[
            (Tag::PoorHousehold, CountyCondition::InProvince),
            (Tag::Cooperative, CountyCondition::PovertyCountyOnDate),
            (Tag::InProvinceProcessor, CountyCondition::InProvince),
        ],
        require_confirmation: false,
    };

    /// Looks a policy up by version.
    pub fn by_version(version: &str) -> Option<Self> {
        (version == Self::GZ_2019.version).then_some(Self::GZ_2019)
    }
}

/// A tag as held by a supplier: validity is inclusive; `valid_to = None` is open-ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldTag {
    pub tag: Tag,
    pub status: TagStatus,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl HeldTag {
    fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date <= to)
    }
}

/// An inclusive interval during which a county counts as a poverty county.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Designation {
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

/// The supplier's origin county, as far as qualification needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginCounty {
    pub in_province: bool,
    pub designations: Vec<Designation>,
}

impl OriginCounty {
    fn is_poverty_county_on(&self, date: NaiveDate) -> bool {
        self.in_province && self.designations.iter().any(|d| d.valid_from <= date && date <= d.valid_to)
    }
}

/// The outcome for one purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Qualification {
    /// Counts toward the share, attributed to the highest-priority verified tag.
    Qualifying(Tag),
    /// Would count once a declared tag is verified; reported separately, not counted.
    Pending(Tag),
    NotQualifying,
}

impl Qualification {
    /// Stored class.
    pub const fn class(self) -> QualificationClass {
        match self {
            Self::Qualifying(_) => QualificationClass::Qualifying,
            Self::Pending(_) => QualificationClass::Pending,
            Self::NotQualifying => QualificationClass::None,
        }
    }

    pub const fn tag(self) -> Option<Tag> {
        match self {
            Self::Qualifying(t) | Self::Pending(t) => Some(t),
            Self::NotQualifying => None,
        }
    }

    /// Rebuilds from the stored class and tag; `None` when they contradict each other
    /// (a qualifying or pending class without a tag, or a tag on `none`).
    pub const fn stored(class: QualificationClass, tag: Option<Tag>) -> Option<Self> {
        match (class, tag) {
            (QualificationClass::Qualifying, Some(t)) => Some(Self::Qualifying(t)),
            (QualificationClass::Pending, Some(t)) => Some(Self::Pending(t)),
            (QualificationClass::None, None) => Some(Self::NotQualifying),
            _ => None,
        }
    }
}

/// Applies `policy` to a purchase made on `date` from a supplier holding `tags` whose
/// origin county is `origin`. A verified tag wins over a declared one; among equals the
/// policy's rule order decides the attribution; revoked tags never count.
pub fn qualify(policy: &Policy, date: NaiveDate, tags: &[HeldTag], origin: &OriginCounty) -> Qualification {
    let eligible = |wanted: TagStatus| {
        policy.rules.iter().find_map(|(tag, condition)| {
            let county_ok = match condition {
                CountyCondition::InProvince => origin.in_province,
                CountyCondition::PovertyCountyOnDate => origin.is_poverty_county_on(date),
            };
            let held = tags.iter().any(|t| t.tag == *tag && t.status == wanted && t.valid_on(date));
            (county_ok && held).then_some(*tag)
        })
    };
    if let Some(tag) = eligible(TagStatus::Verified) {
        Qualification::Qualifying(tag)
    } else if let Some(tag) = eligible(TagStatus::Declared) {
        Qualification::Pending(tag)
    } else {
        Qualification::NotQualifying
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn held(tag: Tag, status: TagStatus, from: &str, to: Option<&str>) -> HeldTag {
        HeldTag { tag, status, valid_from: date(from), valid_to: to.map(date) }
    }

    fn poverty_county() -> OriginCounty {
        OriginCounty { in_province: true, designations: vec![Designation { valid_from: date("2014-01-01"), valid_to: date("2020-12-31") }] }
    }
    fn plain_county() -> OriginCounty {
        OriginCounty { in_province: true, designations: vec![] }
    }
    fn out_of_province() -> OriginCounty {
        OriginCounty {
            in_province: false,
            designations: vec![Designation { valid_from: date("2014-01-01"), valid_to: date("2020-12-31") }],
        }
    }

    const P: Policy = Policy::GZ_2019;

    /// Every tag × county status × verification status on a date inside validity.
    #[test]
    fn each_tag_under_each_county_status() {
        use Qualification::*;
        let on = date("2019-05-01");
        let cases = [
            (Tag::PoorHousehold, poverty_county(), Qualifying(Tag::PoorHousehold)),
            (Tag::PoorHousehold, plain_county(), Qualifying(Tag::PoorHousehold)),
            (Tag::PoorHousehold, out_of_province(), NotQualifying),
            (Tag::Cooperative, poverty_county(), Qualifying(Tag::Cooperative)),
            (Tag::Cooperative, plain_county(), NotQualifying),
            (Tag::Cooperative, out_of_province(), NotQualifying),
            (Tag::InProvinceProcessor, poverty_county(), Qualifying(Tag::InProvinceProcessor)),
            (Tag::InProvinceProcessor, plain_county(), Qualifying(Tag::InProvinceProcessor)),
            (Tag::InProvinceProcessor, out_of_province(), NotQualifying),
        ];
        for (tag, county, expected) in cases {
            let verified = [held(tag, TagStatus::Verified, "2019-01-01", None)];
            assert_eq!(qualify(&P, on, &verified, &county), expected, "{tag} verified");
            let declared = [held(tag, TagStatus::Declared, "2019-01-01", None)];
            let pending = match expected {
                Qualifying(t) => Pending(t),
                other => other,
            };
            assert_eq!(qualify(&P, on, &declared, &county), pending, "{tag} declared");
            let revoked = [held(tag, TagStatus::Revoked, "2019-01-01", None)];
            assert_eq!(qualify(&P, on, &revoked, &county), NotQualifying, "{tag} revoked");
        }
    }

    #[test]
    fn tag_validity_bounds_are_inclusive() {
        let tags = [held(Tag::PoorHousehold, TagStatus::Verified, "2019-03-01", Some("2019-03-31"))];
        let c = plain_county();
        assert_eq!(qualify(&P, date("2019-02-28"), &tags, &c), Qualification::NotQualifying);
        assert_eq!(qualify(&P, date("2019-03-01"), &tags, &c), Qualification::Qualifying(Tag::PoorHousehold));
        assert_eq!(qualify(&P, date("2019-03-31"), &tags, &c), Qualification::Qualifying(Tag::PoorHousehold));
        assert_eq!(qualify(&P, date("2019-04-01"), &tags, &c), Qualification::NotQualifying);
    }

    #[test]
    fn cooperative_counts_only_while_the_county_is_designated() {
        let tags = [held(Tag::Cooperative, TagStatus::Verified, "2014-01-01", None)];
        let c = poverty_county();
        assert_eq!(qualify(&P, date("2020-12-31"), &tags, &c), Qualification::Qualifying(Tag::Cooperative));
        assert_eq!(qualify(&P, date("2021-01-01"), &tags, &c), Qualification::NotQualifying);
        assert_eq!(qualify(&P, date("2014-01-01"), &tags, &c), Qualification::Qualifying(Tag::Cooperative));
        assert_eq!(qualify(&P, date("2013-12-31"), &tags, &c), Qualification::NotQualifying);
    }

    #[test]
    fn verified_tag_wins_over_a_higher_priority_declared_tag() {
        let tags = [
            held(Tag::PoorHousehold, TagStatus::Declared, "2019-01-01", None),
            held(Tag::InProvinceProcessor, TagStatus::Verified, "2019-01-01", None),
        ];
        assert_eq!(qualify(&P, date("2019-06-01"), &tags, &plain_county()), Qualification::Qualifying(Tag::InProvinceProcessor));
    }

    #[test]
    fn attribution_follows_policy_order_among_verified_tags() {
        let tags = [
            held(Tag::InProvinceProcessor, TagStatus::Verified, "2019-01-01", None),
            held(Tag::Cooperative, TagStatus::Verified, "2019-01-01", None),
        ];
        assert_eq!(qualify(&P, date("2019-06-01"), &tags, &poverty_county()), Qualification::Qualifying(Tag::Cooperative));
    }

    #[test]
    fn no_tags_never_qualify() {
        assert_eq!(qualify(&P, date("2019-06-01"), &[], &poverty_county()), Qualification::NotQualifying);
    }

    #[test]
    fn qualification_round_trips_its_stored_class_and_tag() {
        for q in [Qualification::Qualifying(Tag::Cooperative), Qualification::Pending(Tag::PoorHousehold), Qualification::NotQualifying] {
            assert_eq!(Qualification::stored(q.class(), q.tag()), Some(q));
        }
        assert_eq!(Qualification::stored(QualificationClass::Qualifying, None), None);
        assert_eq!(Qualification::stored(QualificationClass::Pending, None), None);
        assert_eq!(Qualification::stored(QualificationClass::None, Some(Tag::Cooperative)), None);
        assert_eq!(Policy::by_version("gz-2019"), Some(Policy::GZ_2019));
        assert_eq!(Policy::by_version("gz-2018"), None);
    }
}
