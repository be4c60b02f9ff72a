//! The spreadsheet import template: its columns (bilingual headers), how a header cell is
//! recognized, how a cell is named in an error, the bilingual rule each column states, and
//! the Chinese aliases of the category and unit vocabularies. Pure: no I/O, no file
//! formats (those are `http::imports`), nothing from the rest of the crate but `domain`.

use super::catalog::{Category, Unit};
use super::code::Code;

/// Most data rows one file may hold.
pub const MAX_ROWS: usize = 20_000;

/// Most errors one answer lists; the rest are summed up in a last entry.
pub const MAX_ERRORS: usize = 1_000;

/// One column of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    PurchaseDate,
    SupplierId,
    InvoiceNo,
    Category,
    Description,
    Quantity,
    Unit,
    UnitPrice,
    Amount,
}

impl Column {
    /// Every column, in template order.
    pub const ALL: [Self; 9] = [
        Self::PurchaseDate,
        Self::SupplierId,
        Self::InvoiceNo,
        Self::Category,
        Self::Description,
        Self::Quantity,
        Self::Unit,
        Self::UnitPrice,
        Self::Amount,
    ];

    /// Position in `ALL` (and in the template).
    pub fn index(self) -> usize {
        self as usize
    }

    pub const fn zh(self) -> &'static str {
        match self {
            Self::PurchaseDate => "采购日期",
            Self::SupplierId => "供应商编号",
            Self::InvoiceNo => "发票号",
            Self::Category => "品类",
            Self::Description => "品名",
            Self::Quantity => "数量",
            Self::Unit => "单位",
            Self::UnitPrice => "单价",
            Self::Amount => "金额",
        }
    }

    /// The English name, which is also the field name of `POST /purchases`.
    pub const fn en(self) -> &'static str {
        match self {
            Self::PurchaseDate => "purchase_date",
            Self::SupplierId => "supplier_id",
            Self::InvoiceNo => "invoice_no",
            Self::Category => "category",
            Self::Description => "description",
            Self::Quantity => "quantity",
            Self::Unit => "unit",
            Self::UnitPrice => "unit_price",
            Self::Amount => "amount",
        }
    }

    /// The header text the template writes: `单价 / unit_price`.
    pub fn label(self) -> String {
        format!("{} / {}", self.zh(), self.en())
    }

    /// A file must have this column (the invoice number and the amount may be left out).
    pub const fn required(self) -> bool {
        !matches!(self, Self::InvoiceNo | Self::Amount)
    }

    /// The column a header cell names: the Chinese, the English or the combined text,
    /// ignoring case, blanks and the separator (`单价`, `unit_price`, `单价 / unit_price`,
    /// `单价 unit_price`).
    pub fn from_header(text: &str) -> Option<Self> {
        let norm: String =
            text.chars().filter(|c| !c.is_whitespace() && !matches!(c, '/' | '／' | '\u{feff}')).flat_map(char::to_lowercase).collect();
        Self::ALL.into_iter().find(|c| norm == c.zh() || norm == c.en() || norm == format!("{}{}", c.zh(), c.en()))
    }

    /// The rule of the column, in Chinese and English.
    pub fn rule(self) -> &'static str {
        match self {
            Self::PurchaseDate => {
                "采购日期必须是 YYYY-MM-DD 格式的日期，不早于2014-01-01，不晚于今天 / purchase date must be a date (YYYY-MM-DD), not before 2014-01-01 and not in the future"
            }
            Self::SupplierId => "供应商编号必须是已登记供应商的编号 / supplier id must be the id of a registered supplier",
            Self::InvoiceNo => "发票号最多64个字符 / invoice number has at most 64 characters",
            Self::Category => {
                "品类必须是以下之一：蔬菜、水果、粮食、肉禽、蛋类、水产、奶类、食用油、豆制品、调味品、其他（或其英文代码） / category must be one of vegetables, fruit, grain, meat_poultry, eggs, aquatic, dairy, edible_oil, soy_products, condiments, other (or its Chinese name)"
            }
            Self::Description => "品名不能为空，最多200个字符 / description must not be blank and has at most 200 characters",
            Self::Quantity => "数量必须大于0，最多3位小数 / quantity must be greater than zero with at most 3 decimal places",
            Self::Unit => {
                "单位必须是以下之一：千克（公斤）、克、吨、斤、两、升、毫升、个（或 kg, g, t, jin, liang, L, ml, piece） / unit must be one of kg, g, t, jin, liang, L, ml, piece (or its Chinese name)"
            }
            Self::UnitPrice => "单价必须是非负数，最多4位小数 / unit price must be a non-negative number with at most 4 decimal places",
            Self::Amount => {
                "金额可不填；填写时必须是非负数，最多2位小数，且与数量×单价相差不超过0.01 / amount may be left blank; if given it must be a non-negative number with at most 2 decimal places, within 0.01 of quantity × unit price"
            }
        }
    }
}

/// How an error names a cell: `row 5, column 单价 / unit_price` (rows as the spreadsheet
/// numbers them, the header being row 1 in the template).
pub fn cell_field(row: u32, column: Column) -> String {
    format!("row {row}, column {}", column.label())
}

/// How an error names a whole row: `row 5`.
pub fn row_field(row: u32) -> String {
    format!("row {row}")
}

/// One bad cell (or, without a column, a bad row) of an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// Row as the spreadsheet numbers it.
    pub row: u32,
    pub column: Option<Column>,
    /// Stable snake_case code.
    pub code: Code,
    /// Chinese and English, `中文 / English`.
    pub message: String,
}

impl CellError {
    pub fn new(row: u32, column: Option<Column>, code: Code, message: impl Into<String>) -> Self {
        Self { row, column, code, message: message.into() }
    }

    /// `row 5, column 单价 / unit_price`, or `row 5` for a whole row.
    pub fn field(&self) -> String {
        match self.column {
            Some(c) => cell_field(self.row, c),
            None => row_field(self.row),
        }
    }

    /// Sorts errors the way a reader scans the sheet: by row, then by column.
    pub fn sort_key(&self) -> (u32, usize) {
        (self.row, self.column.map_or(0, |c| c.index() + 1))
    }
}

/// Other Chinese names people write for a category (its label is [`Category::zh`]).
const CATEGORY_ALIASES: &[(&str, Category)] = &[
    ("粮油", Category::Grain),
    ("肉类", Category::MeatPoultry),
    ("禽肉", Category::MeatPoultry),
    ("禽蛋", Category::Eggs),
    ("蛋", Category::Eggs),
    ("水产品", Category::Aquatic),
    ("乳制品", Category::Dairy),
    ("奶制品", Category::Dairy),
    ("其它", Category::Other),
];

/// Other Chinese names people write for a unit (its label is [`Unit::zh`]).
const UNIT_ALIASES: &[(&str, Unit)] = &[("公斤", Unit::Kg), ("件", Unit::Piece)];

/// A category by its wire name (any case), its Chinese label or a common alias.
pub fn category_from_text(text: &str) -> Option<Category> {
    let t = text.trim();
    let zh = Category::ALL.iter().copied().find(|c| c.zh() == t);
    zh.or_else(|| CATEGORY_ALIASES.iter().find(|(a, _)| *a == t).map(|(_, c)| *c)).or_else(|| Category::parse(&t.to_ascii_lowercase()))
}

/// A unit by its wire name (any case), its Chinese label or a common alias.
pub fn unit_from_text(text: &str) -> Option<Unit> {
    let t = text.trim();
    let zh = Unit::ALL.iter().copied().find(|u| u.zh() == t);
    zh.or_else(|| UNIT_ALIASES.iter().find(|(a, _)| *a == t).map(|(_, u)| *u))
        .or_else(|| Unit::ALL.iter().copied().find(|u| u.as_str().eq_ignore_ascii_case(t)))
}

/// The rules of the template, one per line, in Chinese and English (written into the
/// template's instructions sheet and echoed in the README).
pub const TEMPLATE_RULES: &[&str] = &[
    "每行是一条采购明细；供应商编号、采购日期、发票号都相同的行合并为同一笔采购 / One row per purchase line; rows with the same supplier id, purchase date and invoice number form one purchase",
    "发票号可不填：同一供应商同一天不填发票号的行合并为一笔采购 / The invoice number may be blank: blank-invoice rows of one supplier on one day form one purchase",
    "同一笔采购中完全相同的两行视为重复录入，整个文件不会导入 / Two identical rows within one purchase are a duplicate entry, and the file is not imported",
    "与本校已登记（未作废）采购的供应商、日期、发票号和总金额都相同的采购视为重复，整个文件不会导入 / A purchase with the same supplier, date, invoice number and total as an active purchase already in the school's ledger is a duplicate, and the file is not imported",
    "任何一个单元格有错，整个文件都不会导入，所有错误会一次列出 / If any cell is wrong nothing is imported, and every wrong cell is listed at once",
    "不允许使用公式，请粘贴为数值 / Formulas are not allowed: paste values",
    "金额一栏可不填，由数量×单价四舍五入到分 / The amount may be left blank: it is quantity × unit price rounded half away from zero to the fen",
    "每个文件最多20000行数据，大小不超过5 MiB / At most 20,000 data rows and 5 MiB per file",
    "同一文件重复上传不会重复导入 / Uploading the same file again imports nothing and returns the first result",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognized_in_chinese_english_or_both() {
        for text in ["单价", "unit_price", "单价 / unit_price", "单价/unit_price", " 单价 unit_price ", "UNIT_PRICE", "\u{feff}单价"]
        {
            assert_eq!(Column::from_header(text), Some(Column::UnitPrice), "{text}");
        }
        assert_eq!(Column::from_header("price"), None);
        for c in Column::ALL {
            assert_eq!(Column::from_header(&c.label()), Some(c));
            assert_eq!(Column::ALL[c.index()], c);
        }
    }

    #[test]
    fn vocabularies_accept_chinese_and_wire_names() {
        assert_eq!(category_from_text("蔬菜"), Some(Category::Vegetables));
        assert_eq!(category_from_text("Meat_Poultry"), Some(Category::MeatPoultry));
        assert_eq!(category_from_text("veg"), None);
        assert_eq!(unit_from_text("斤"), Some(Unit::Jin));
        assert_eq!(unit_from_text("l"), Some(Unit::L));
        assert_eq!(unit_from_text("KG"), Some(Unit::Kg));
        assert_eq!(unit_from_text("box"), None);
        assert_eq!((category_from_text("粮油"), unit_from_text("公斤")), (Some(Category::Grain), Some(Unit::Kg)));
        for c in Category::ALL {
            assert_eq!(category_from_text(c.zh()), Some(*c));
        }
        for u in Unit::ALL {
            assert_eq!(unit_from_text(u.zh()), Some(*u));
        }
    }

    #[test]
    fn the_rules_name_every_chinese_label_and_code() {
        let category = Column::Category.rule();
        for c in Category::ALL {
            assert!(category.contains(c.zh()) && category.contains(c.as_str()), "{c}");
        }
        let unit = Column::Unit.rule();
        for u in Unit::ALL {
            assert!(unit.contains(u.zh()) && unit.contains(u.as_str()), "{u}");
        }
    }
}
