//! `POST /imports` and `GET /imports/template`: CSV (UTF-8 and GB18030) and XLSX files are
//! recorded exactly like `POST /purchases`; every bad cell is reported at once and nothing
//! is written; duplicates are refused; re-uploads are replayed; hostile or broken files
//! are 4xx problems; only canteens import.

use std::io::{Cursor, Write};

use actix_web::http::Method;
use calamine::Reader;
use canteen_ledger::domain::role::Role;
use canteen_ledger::service::aggregates;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, TestApp, TestDb};

both_backends!(
    utf8_and_gb18030_csv_files_import_and_the_aggregates_agree,
    an_xlsx_workbook_with_number_and_date_cells_imports,
    every_bad_cell_is_reported_at_once_and_nothing_is_written,
    duplicates_within_the_file_and_of_active_ledger_entries_are_refused,
    a_re_uploaded_file_is_replayed_and_writes_nothing,
    hostile_and_broken_files_are_4xx_problems_that_write_nothing,
    the_template_downloads_in_both_formats_and_imports_back,
    errors_name_the_row_as_the_spreadsheet_numbers_it_with_crlf_lf_or_cr,
    error_messages_follow_accept_language_and_codes_do_not,
    only_a_canteen_imports_and_only_into_its_own_school,
);

const CSV: &str = "text/csv";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const HEADER: &str = "purchase_date,supplier_id,invoice_no,category,description,quantity,unit,unit_price,amount";
const LABELS: [&str; 9] = [
    "采购日期 / purchase_date",
    "供应商编号 / supplier_id",
    "发票号 / invoice_no",
    "品类 / category",
    "品名 / description",
    "数量 / quantity",
    "单位 / unit",
    "单价 / unit_price",
    "金额 / amount",
];

async fn upload(app: &TestApp, token: &str, content_type: &str, body: Vec<u8>) -> Resp {
    app.send_bytes(Method::POST, "/api/v1/imports", Some(token), content_type, body).await
}

fn csv(lines: &[String]) -> Vec<u8> {
    let mut out = String::from(HEADER);
    for l in lines {
        out.push('\n');
        out.push_str(l);
    }
    out.push('\n');
    out.into_bytes()
}

/// Ledger entries of a school, as the admin sees them.
async fn entries(app: &TestApp, school: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/purchases?school_id={school}&limit=500"), &app.admin()).await;
    r.expect(200);
    r.json["items"].as_array().unwrap().clone()
}

fn consistent(app: &TestApp) {
    let mut conn = app.state.db.get().unwrap();
    let check = aggregates::check(&mut conn).unwrap();
    assert!(check.differences.is_empty(), "{:?}", check.differences);
}

/// `(field, code)` of every error of a problem.
fn errors(r: &Resp) -> Vec<(String, String)> {
    r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect()
}

fn pair(field: &str, code: &str) -> (String, String) {
    (field.to_owned(), code.to_owned())
}

struct World {
    app: TestApp,
    school: String,
    supplier: String,
    canteen: String,
}

async fn world(db: TestDb) -> World {
    let app = TestApp::new(db).await;
    let school = app.school("522731", "一小").await;
    let supplier = app.supplier("522731", "cooperative").await;
    app.tag(&supplier, "cooperative", "2019-01-01", None, true).await;
    let canteen = app.token(&Role::Canteen(school.clone()));
    World { app, school, supplier, canteen }
}

async fn utf8_and_gb18030_csv_files_import_and_the_aggregates_agree(db: TestDb) {
    let World { app, school, supplier, canteen } = world(db).await;
    // Two lines of one invoice, and a second purchase; a blank row in between is skipped.
    let utf8 = csv(&[
        format!("2019-03-05,{supplier},FP-1,vegetables,大白菜,10,jin,1.255,"),
        format!("2019-03-05,{supplier},FP-1,fruit,苹果,2,kg,4.5,9.00"),
        String::new(),
        format!("2019/03/06,{supplier},,grain,大米,25,kg,3.2,80"),
    ]);
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(utf8);

    let r = upload(&app, &canteen, CSV, with_bom).await;

    r.expect(201);
    assert_eq!((r.json["rows"].as_u64(), r.json["purchases"].as_u64()), (Some(3), Some(2)));
    assert_eq!(r.json["replayed"], false);
    assert_eq!(r.json["school_id"], school.as_str());
    assert_eq!(r.json["format"], "csv");
    let first = app.get(&format!("/api/v1/purchases/{}", r.json["purchase_ids"][0].as_str().unwrap()), &canteen).await;
    first.expect(200);
    assert_eq!(first.json["total"], "21.55");
    assert_eq!(first.json["invoice_no"], "FP-1");
    assert_eq!(first.json["lines"].as_array().unwrap().len(), 2);
    assert_eq!(first.json["lines"][0]["description"], "大白菜");
    assert_eq!(first.json["qualification"]["class"], "qualifying");

    // GB18030, Chinese headers and vocabulary, as Excel on a Chinese Windows saves it.
    let text = format!("{}\r\n2019-03-07,{supplier},FP-9,蔬菜,土豆,3,斤,2,6.00\r\n", LABELS.join(","));
    let (gb, _, lossy) = encoding_rs::GB18030.encode(&text);
    assert!(!lossy);
    assert!(std::str::from_utf8(&gb).is_err(), "the test file must not also be valid UTF-8");

    let r = upload(&app, &canteen, CSV, gb.into_owned()).await;

    r.expect(201);
    let id = r.json["purchase_ids"][0].as_str().unwrap().to_owned();
    let p = app.get(&format!("/api/v1/purchases/{id}"), &canteen).await;
    assert_eq!(p.json["lines"][0]["description"], "土豆");
    assert_eq!(p.json["lines"][0]["unit"], "jin");
    assert_eq!(p.json["lines"][0]["category"], "vegetables");
    assert_eq!(p.json["total"], "6.00");
    assert_eq!(entries(&app, &school).await.len(), 3);
    consistent(&app);
    let chain = app.get(&format!("/api/v1/schools/{school}/ledger/verify"), &app.admin()).await;
    assert_eq!((chain.json["entries"].as_u64(), chain.json["valid"].as_bool()), (Some(3), Some(true)));
}

async fn an_xlsx_workbook_with_number_and_date_cells_imports(db: TestDb) {
    let World { app, school, supplier, canteen } = world(db).await;
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, label) in (0_u16..).zip(LABELS) {
        sheet.write_string(0, c, label).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    sheet.write_datetime_with_format(1, 0, ExcelDateTime::from_ymd(2019, 3, 5).unwrap(), &date).unwrap();
    sheet.write_string(1, 1, &supplier).unwrap();
    sheet.write_number(1, 2, 12345).unwrap(); // an invoice number typed as a number
    sheet.write_string(1, 3, "蔬菜").unwrap();
    sheet.write_string(1, 4, "大白菜").unwrap();
    sheet.write_number(1, 5, 25.5).unwrap();
    sheet.write_string(1, 6, "斤").unwrap();
    sheet.write_number(1, 7, 1.8).unwrap();
    sheet.write_number(1, 8, 45.9).unwrap();
    sheet.write_string(2, 0, "2019-03-06").unwrap();
    sheet.write_string(2, 1, &supplier).unwrap();
    sheet.write_string(2, 3, "eggs").unwrap();
    sheet.write_string(2, 4, "鸡蛋").unwrap();
    sheet.write_string(2, 5, "30").unwrap();
    sheet.write_string(2, 6, "piece").unwrap();
    sheet.write_string(2, 7, "0.85").unwrap();
    let bytes = wb.save_to_buffer().unwrap();

    let r = upload(&app, &canteen, XLSX, bytes).await;

    r.expect(201);
    assert_eq!((r.json["rows"].as_u64(), r.json["purchases"].as_u64(), r.json["format"].as_str()), (Some(2), Some(2), Some("xlsx")));
    let list = entries(&app, &school).await;
    let totals: Vec<(&str, &str, &str)> = list
        .iter()
        .map(|p| (p["purchase_date"].as_str().unwrap(), p["total"].as_str().unwrap(), p["invoice_no"].as_str().unwrap_or("")))
        .collect();
    assert!(totals.contains(&("2019-03-05", "45.90", "12345")), "{totals:?}");
    assert!(totals.contains(&("2019-03-06", "25.50", "")), "{totals:?}");
    consistent(&app);
}

async fn every_bad_cell_is_reported_at_once_and_nothing_is_written(db: TestDb) {
    let World { app, school, supplier, canteen } = world(db).await;
    let file = csv(&[
        format!("2019-03-05,{supplier},A,vegetables,白菜,10,kg,-1,"),
        format!("2019-13-45,{supplier},B,vegetables,白菜,10,kg,1,"),
        "2019-03-05,no-such-supplier,C,vegetables,白菜,10,kg,1,".into(),
        format!("2019-03-05,{supplier},D,veg,白菜,abc,box,1.00001,"),
        format!("2019-03-05,{supplier},E,fruit,苹果,2,kg,4.5,9.50"),
        format!("2019-03-05,{supplier},F,fruit,,2,kg,4.5,"),
        format!("2099-01-01,{supplier},G,fruit,苹果,2,kg,4.5,"),
        format!("2019-03-05,{supplier},H,fruit,苹果,2,kg,4.5,"),
    ]);

    // LF, and CRLF as Excel and the template write it: the same rows named.
    let crlf = String::from_utf8(file.clone()).unwrap().replace('\n', "\r\n").into_bytes();
    for file in [file, crlf] {
        let r = upload(&app, &canteen, CSV, file).await;

        r.problem(422);
        assert_eq!(
            errors(&r),
            vec![
                pair("row 2, column 单价 / unit_price", "negative_amount"),
                pair("row 3, column 采购日期 / purchase_date", "invalid_date"),
                pair("row 4, column 供应商编号 / supplier_id", "unknown_supplier"),
                pair("row 5, column 品类 / category", "unknown_category"),
                pair("row 5, column 数量 / quantity", "invalid_number"),
                pair("row 5, column 单位 / unit", "unknown_unit"),
                pair("row 5, column 单价 / unit_price", "too_precise"),
                pair("row 6, column 金额 / amount", "amount_mismatch"),
                pair("row 7, column 品名 / description", "required"),
                pair("row 8, column 采购日期 / purchase_date", "date_in_future"),
            ]
        );
        let price = r.json["errors"][0]["message"].as_str().unwrap();
        assert_eq!(price, "单价必须是非负数，最多4位小数 / unit price must be a non-negative number with at most 4 decimal places");
        assert!(r.json["errors"][7]["message"].as_str().unwrap().contains("9.00"), "{}", r.text);
        assert!(entries(&app, &school).await.is_empty());
    }
    consistent(&app);
    // Fixed, the same rows import; the failed upload left nothing behind to replay.
    let fixed = csv(&[format!("2019-03-05,{supplier},H,fruit,苹果,2,kg,4.5,")]);
    upload(&app, &canteen, CSV, fixed).await.expect(201);
}

async fn duplicates_within_the_file_and_of_active_ledger_entries_are_refused(db: TestDb) {
    let World { app, school, supplier, canteen } = world(db).await;
    let body = json!({"school_id": school, "supplier_id": supplier, "purchase_date": "2019-03-05", "invoice_no": "FP-1",
        "lines": [{"category": "vegetables", "description": "白菜", "quantity": "10", "unit": "kg", "unit_price": "2.5"}]});
    let existing = app.send(Method::POST, "/api/v1/purchases", Some(&canteen), Some(&body), &[("Idempotency-Key", "existing-0001")]).await;
    existing.expect(201);
    let again = csv(&[format!("2019-03-05,{supplier},FP-1,vegetables,大白菜,5,kg,5,")]);
    let file = csv(&[
        // Same supplier, date, invoice and total (25.00) as the recorded purchase.
        format!("2019-03-05,{supplier},FP-1,vegetables,大白菜,5,kg,5,"),
        format!("2019-03-06,{supplier},FP-2,fruit,苹果,2,kg,4.5,"),
        // The same line twice in one purchase: entered twice, not bought twice.
        format!("2019-03-06,{supplier},FP-2,fruit,苹果,2,kg,4.50,"),
        format!("2019-03-06,{supplier},FP-3,fruit,苹果,2,kg,4.5,"),
    ]);

    let r = upload(&app, &canteen, CSV, file).await;

    r.problem(422);
    assert_eq!(errors(&r), vec![pair("row 2", "duplicate"), pair("row 4", "duplicate")]);
    assert!(r.json["errors"][0]["message"].as_str().unwrap().contains(existing.json["id"].as_str().unwrap()));
    assert_eq!(entries(&app, &school).await.len(), 1);
    // Once the recorded purchase is voided, it no longer counts as a duplicate.
    let id = existing.json["id"].as_str().unwrap();
    app.post(&format!("/api/v1/purchases/{id}/void"), &canteen, &json!({"reason": "entered on paper too"})).await.expect(201);
    upload(&app, &canteen, CSV, again).await.expect(201);
    consistent(&app);
}

async fn a_re_uploaded_file_is_replayed_and_writes_nothing(db: TestDb) {
    let World { app, school, supplier, canteen } = world(db).await;
    let file = csv(&[format!("2019-03-05,{supplier},FP-1,fruit,苹果,2,kg,4.5,"), format!("2019-03-06,{supplier},FP-2,fruit,梨,3,kg,4,")]);

    let first = app.send_bytes(Method::POST, "/api/v1/imports?file_name=march.csv", Some(&canteen), CSV, file.clone()).await;
    let again = upload(&app, &canteen, CSV, file.clone()).await;

    first.expect(201);
    assert_eq!(first.json["file_name"], "march.csv");
    again.expect(200);
    assert_eq!(again.json["replayed"], true);
    for field in ["import_id", "purchase_ids", "rows", "purchases", "file_sha256", "file_name"] {
        assert_eq!(again.json[field], first.json[field], "{field}");
    }
    assert_eq!(entries(&app, &school).await.len(), 2);
    // Another school's canteen importing the same bytes is a different import.
    let other = app.school("522731", "二小").await;
    let r = upload(&app, &app.token(&Role::Canteen(other.clone())), CSV, file).await;
    r.expect(201);
    assert_ne!(r.json["import_id"], first.json["import_id"]);
    assert_eq!(entries(&app, &other).await.len(), 2);
    assert_eq!(entries(&app, &school).await.len(), 2);
    consistent(&app);
}

/// A zip whose one entry is 200 MiB of zeros (a few hundred KiB compressed).
fn zip_bomb() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    w.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let zeros = vec![0_u8; 1 << 20];
    for _ in 0..200 {
        w.write_all(&zeros).unwrap();
    }
    w.finish().unwrap().into_inner()
}

async fn hostile_and_broken_files_are_4xx_problems_that_write_nothing(db: TestDb) {
    let World { app, school, supplier, canteen } = world(db).await;
    // A formula cell.
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, label) in (0_u16..).zip(LABELS) {
        sheet.write_string(0, c, label).unwrap();
    }
    for (c, v) in (0_u16..).zip(["2019-03-05", supplier.as_str(), "FP-1", "fruit", "苹果", "2", "kg"]) {
        sheet.write_string(1, c, v).unwrap();
    }
    sheet.write_formula(1, 7, "=9/2").unwrap();
    let r = upload(&app, &canteen, XLSX, wb.save_to_buffer().unwrap()).await;
    r.problem(422);
    assert_eq!(errors(&r), vec![pair("row 2, column 单价 / unit_price", "formula_not_allowed")]);

    let bomb = zip_bomb();
    assert!(bomb.len() < 1 << 20, "the bomb fits in an upload: {}", bomb.len());
    let r = upload(&app, &canteen, XLSX, bomb).await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "zip_bomb", "{}", r.text);

    let r = upload(&app, &canteen, XLSX, b"PK this is not really a workbook".to_vec()).await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "bad_file");
    // A valid zip that is not a workbook.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("hello.txt", zip::write::SimpleFileOptions::default()).unwrap();
    w.write_all(b"hello").unwrap();
    let r = upload(&app, &canteen, XLSX, w.finish().unwrap().into_inner()).await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "bad_file");

    // A million rows (2 bytes each, under the size limit): refused at row 20,001.
    let mut million = b"purchase_date,supplier_id,category,description,quantity,unit,unit_price\n".to_vec();
    million.extend(b"1\n".repeat(1_000_000));
    let r = upload(&app, &canteen, CSV, million).await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "too_many_rows");

    let r =
        upload(&app, &canteen, CSV, b"purchase_date,supplier_id,category,description,quantity\n2019-03-05,x,fruit,a,1\n".to_vec()).await;
    r.problem(422);
    assert_eq!(errors(&r), vec![pair("column 单位 / unit", "missing_column"), pair("column 单价 / unit_price", "missing_column")]);

    // 0xFF can start neither a UTF-8 nor a GB18030 sequence.
    let mut bad = csv(&[format!("2019-03-05,{supplier},FP-1,fruit,苹果,2,kg,4.5,")]);
    bad.extend(b"\xFF\xFE\x81\n");
    let r = upload(&app, &canteen, CSV, bad).await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "bad_encoding");

    let r = upload(&app, &canteen, "application/json", b"{}".to_vec()).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "Content-Type");
    assert_eq!(r.json["errors"][0]["code"], "unsupported_media_type");

    let mut huge = csv(&[]);
    huge.extend(vec![b' '; 5 * 1024 * 1024]);
    upload(&app, &canteen, CSV, huge).await.problem(413);

    let r = upload(&app, &canteen, CSV, HEADER.as_bytes().to_vec()).await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "no_rows");

    assert!(entries(&app, &school).await.is_empty());
    consistent(&app);
}

async fn the_template_downloads_in_both_formats_and_imports_back(db: TestDb) {
    let World { app, school, supplier, canteen } = world(db).await;
    let county = app.token(&Role::County("522731".into()));

    let csv_file = app.get("/api/v1/imports/template?format=csv", &county).await;
    let xlsx_file = app.send(Method::GET, "/api/v1/imports/template?format=xlsx", Some(&county), None, &[]).await;

    csv_file.expect(200);
    assert!(csv_file.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv_file.header("content-disposition").unwrap().contains("purchases-template.csv"));
    let text = csv_file.text.strip_prefix('\u{feff}').expect("a UTF-8 BOM");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), LABELS);
    assert_eq!(reader.records().count(), 1, "one example row");
    xlsx_file.expect(200);
    assert_eq!(xlsx_file.header("content-type"), Some(XLSX));
    // The example row, with a real supplier, imports as is.
    let filled = text.replace("S-0001", &supplier);
    let r = upload(&app, &canteen, CSV, filled.into_bytes()).await;
    r.expect(201);
    assert_eq!(entries(&app, &school).await[0]["total"], "45.90");

    // The XLSX template reads back with calamine and, uploaded unchanged, fails only on the
    // placeholder supplier.
    let raw = template_bytes(&app, &county).await;
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(Cursor::new(raw.clone())).unwrap();
    let first = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&first).unwrap();
    let header: Vec<String> = range.rows().next().unwrap().iter().map(ToString::to_string).collect();
    assert_eq!(header, LABELS);
    // Typed cells, as a spreadsheet user fills them in: a date cell, number cells.
    let example: Vec<calamine::Data> = range.rows().nth(1).unwrap().to_vec();
    assert!(matches!(&example[0], calamine::Data::DateTime(d) if d.is_datetime()), "{:?}", example[0]);
    assert_eq!(
        &example[5..],
        [calamine::Data::Float(25.5), calamine::Data::String("斤".into()), calamine::Data::Float(1.8), calamine::Data::Float(45.9)]
    );
    assert_eq!((&example[1], &example[3]), (&calamine::Data::String("S-0001".into()), &calamine::Data::String("蔬菜".into())));
    let r = upload(&app, &canteen, XLSX, raw).await;
    r.problem(422);
    assert_eq!(errors(&r), vec![pair("row 2, column 供应商编号 / supplier_id", "unknown_supplier")]);
    let r = app.get("/api/v1/imports/template?format=pdf", &county).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "format");
}

/// The bug report: the CSV template uploaded as downloaded (BOM, CRLF, as Excel writes
/// it) named its example row "row 1" — the header. Every line ending numbers rows alike:
/// the example is row 2, a row after a blank line row 4.
async fn errors_name_the_row_as_the_spreadsheet_numbers_it_with_crlf_lf_or_cr(db: TestDb) {
    let World { app, school, supplier, canteen } = world(db).await;
    let template = app.get("/api/v1/imports/template?format=csv", &canteen).await;
    template.expect(200);
    assert!(template.text.contains("\r\n") && template.text.starts_with('\u{feff}'), "the template is CRLF with a BOM");
    let as_downloaded = template.text.clone().into_bytes();
    let r = upload(&app, &canteen, CSV, as_downloaded).await;
    r.problem(422);
    assert_eq!(errors(&r), vec![pair("row 2, column 供应商编号 / supplier_id", "unknown_supplier")]);

    // The example, a blank row, a row with a bad price; in each line ending.
    let crlf = format!("{}\r\n\r\n2019-03-06,{supplier},FP-2,蔬菜,土豆,3,斤,-2,\r\n", template.text.trim_end());
    for (ending, text) in [("CRLF", crlf.clone()), ("LF", crlf.replace("\r\n", "\n")), ("CR", crlf.replace("\r\n", "\r"))] {
        let r = upload(&app, &canteen, CSV, text.into_bytes()).await;
        r.problem(422);
        assert_eq!(
            errors(&r),
            vec![
                pair("row 2, column 供应商编号 / supplier_id", "unknown_supplier"),
                pair("row 4, column 单价 / unit_price", "negative_amount")
            ],
            "{ending}"
        );
    }
    assert!(entries(&app, &school).await.is_empty());
}

/// The XLSX template's bytes (`Resp` keeps bodies as text).
async fn template_bytes(app: &TestApp, token: &str) -> Vec<u8> {
    let req = actix_web::test::TestRequest::get()
        .uri("/api/v1/imports/template?format=xlsx")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request();
    app.call_bytes(req).await
}

async fn only_a_canteen_imports_and_only_into_its_own_school(db: TestDb) {
    let World { app, school, supplier, canteen: _ } = world(db).await;
    let other = app.school("520102", "OTHER 小学").await;
    let file = || csv(&[format!("2019-03-05,{supplier},FP-1,fruit,苹果,2,kg,4.5,")]);

    for role in [Role::Admin, Role::Province, Role::County("522731".into()), Role::Supplier(supplier.clone())] {
        upload(&app, &app.token(&role), CSV, file()).await.problem(403);
        app.get("/api/v1/imports/template", &app.token(&role)).await.expect(200);
    }
    app.send_bytes(Method::POST, "/api/v1/imports", None, CSV, file()).await.problem(401);
    app.send(Method::GET, "/api/v1/imports/template", None, None, &[]).await.problem(401);
    // The other school's canteen imports into its own school: the school comes from the token.
    let r = upload(&app, &app.token(&Role::Canteen(other.clone())), CSV, file()).await;
    r.expect(201);
    assert_eq!(r.json["school_id"], other.as_str());
    assert_eq!(entries(&app, &other).await.len(), 1);
    assert!(entries(&app, &school).await.is_empty());
}

/// A person's language: `Accept-Language: zh-CN` narrows every message to its Chinese
/// half, `en` to its English half, anything else keeps both; fields, codes and `detail`
/// are the same in every language (programs switch on them).
async fn error_messages_follow_accept_language_and_codes_do_not(db: TestDb) {
    let World { app, supplier, canteen, .. } = world(db).await;
    let body = csv(&[format!("2019-03-06,{supplier},FP-9,蔬菜,土豆,3,斤,-2,")]);
    let send = |lang: Option<&'static str>| {
        let mut req = actix_web::test::TestRequest::post()
            .uri("/api/v1/imports")
            .insert_header(("Authorization", format!("Bearer {canteen}")))
            .insert_header(("Content-Type", CSV));
        if let Some(l) = lang {
            req = req.insert_header(("Accept-Language", l));
        }
        req.set_payload(body.clone()).to_request()
    };
    let both = app.call(send(None)).await;
    let zh = app.call(send(Some("zh-CN,zh;q=0.9,en;q=0.8"))).await;
    let en = app.call(send(Some("en-US,en;q=0.9"))).await;
    let other = app.call(send(Some("fr-FR"))).await;
    let message = |r: &Resp| r.problem(422)["errors"][0]["message"].as_str().unwrap_or_default().to_owned();
    let (m_both, m_zh, m_en) = (message(&both), message(&zh), message(&en));
    assert_eq!(m_both, format!("{m_zh} / {m_en}"), "both halves by default");
    assert!(m_zh.starts_with("单价") && !m_zh.contains("unit price"), "{m_zh}");
    assert!(m_en.starts_with("unit price") && !m_en.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)), "{m_en}");
    assert_eq!(message(&other), m_both);
    for r in [&zh, &en, &other] {
        assert_eq!(errors(r), errors(&both));
        assert_eq!(r.json["detail"], both.json["detail"]);
    }
}
