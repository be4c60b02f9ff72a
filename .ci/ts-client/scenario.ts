// Second generated-client check: the types openapi-typescript generated from
// openapi/openapi.json (work/schema.d.ts), used through openapi-fetch, type-checked by
// `tsc --noEmit` (strict) and then run against a live server.
//
// Scenario (a county bureau, 三都县 522732, March 2019): the admin logs in, creates the
// county account, two schools and a cooperative supplier, declares and verifies its tag,
// mints a canteen token; the canteen records a purchase (Idempotency-Key, then a replay);
// the county logs in, lists its schools (following `Link: rel="next"` pages of one), reads
// its shares by school (school A 1.0000, school B silent), revalidates the report with its
// ETag (304), downloads the XLSX export, and submits its report for 2019-03-H1.
//
// Every answer must have the documented status; its body is read through the generated
// type (a field the code reads that the spec lacks fails `tsc`). Environment: BASE_URL,
// ADMIN_PASSWORD. Exit 0 with one PASS line, else a FAIL line and exit 1.

import createClient from "openapi-fetch";
import type { components, paths } from "./work/schema.d.ts";

type Schemas = components["schemas"];

const COUNTY = "522732";
const base = process.env.BASE_URL ?? "";
const adminPassword = process.env.ADMIN_PASSWORD ?? "";

class CheckFailed extends Error {}

function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new CheckFailed(what);
}

/** The body of an answer that must have `status`, typed as the spec says. */
function expect<T>(what: string, status: number, r: { data?: T; error?: unknown; response: Response }): T {
  check(r.response.status === status, `${what}: status ${r.response.status}, expected ${status}: ${JSON.stringify(r.error)}`);
  check(r.data !== undefined, `${what}: no body`);
  return r.data;
}

function client(token?: string) {
  const c = createClient<paths>({ baseUrl: base });
  if (token) {
    c.use({
      onRequest({ request }) {
        request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    });
  }
  return c;
}

async function login(username: string, password: string) {
  const body: Schemas["TokenRequest"] = { username, password };
  const t = expect(`create_token (${username})`, 200, await client().POST("/api/v1/auth/token", { body }));
  check(t.token_type === "Bearer" && t.expires_in > 0, `token ${t.token_type} ${t.expires_in}`);
  return client(t.access_token);
}

async function main(): Promise<string> {
  const admin = await login("admin", adminPassword);
  const suffix = crypto.randomUUID().slice(0, 8);
  const countyUser = `sandu-bureau-${suffix}`;
  const countyPassword = `ci-${crypto.randomUUID()}`;
  const user: Schemas["CreateUserRequest"] = { username: countyUser, password: countyPassword, role: `county:${COUNTY}` };
  expect("create_user", 201, await admin.POST("/api/v1/users", { body: user }));

  const schools: Schemas["SchoolResponse"][] = [];
  for (const name of ["三都县第一小学", "三都县周覃镇中心小学"]) {
    const body: Schemas["CreateSchoolRequest"] = { county_code: COUNTY, name, students: 480 };
    const s = expect(`create_school (${name})`, 201, await admin.POST("/api/v1/schools", { body }));
    check(s.county_code === COUNTY, `school county ${s.county_code}`);
    schools.push(s);
  }
  const [buying, silent] = schools;
  check(buying !== undefined && silent !== undefined, "two schools");

  const supplierBody: Schemas["CreateSupplierRequest"] = {
    kind: "cooperative",
    name: "三都县九阡镇蔬菜种植农民专业合作社",
    origin_county_code: COUNTY,
    registration_ref: "93522732MA6DYYYY1L",
  };
  const supplier = expect("create_supplier", 201, await admin.POST("/api/v1/suppliers", { body: supplierBody }));
  const tag = expect(
    "declare_tag",
    201,
    await admin.POST("/api/v1/suppliers/{id}/tags", {
      params: { path: { id: supplier.id } },
      body: { tag: "cooperative", valid_from: "2019-01-01", evidence: "农民专业合作社营业执照 93522732MA6DYYYY1L" },
    }),
  );
  const review = expect(
    "verify_tag",
    200,
    await admin.POST("/api/v1/suppliers/{id}/tags/{tag}/verify", {
      params: { path: { id: supplier.id, tag: tag.id } },
      body: { note: "CI: licence checked" },
    }),
  );
  check(review.tag.status === "verified", `tag ${review.tag.status}`);

  const minted = expect(
    "mint_integration_token",
    201,
    await admin.POST("/api/v1/tokens", { body: { role: `canteen:${buying.id}`, label: "CI canteen app (TypeScript)", days: 1 } }),
  );
  const canteen = client(minted.access_token);
  const purchase: Schemas["CreatePurchaseRequest"] = {
    school_id: buying.id,
    supplier_id: supplier.id,
    purchase_date: "2019-03-12",
    lines: [{ category: "vegetables", description: "青菜", quantity: "40", unit: "jin", unit_price: "1.25" }],
  };
  const key = crypto.randomUUID();
  const made = expect(
    "create_purchase",
    201,
    await canteen.POST("/api/v1/purchases", { params: { header: { "Idempotency-Key": key } }, body: purchase }),
  );
  const again = expect(
    "create_purchase (replay)",
    201,
    await canteen.POST("/api/v1/purchases", { params: { header: { "Idempotency-Key": key } }, body: purchase }),
  );
  check(again.id === made.id && made.total === "50.00", `replay ${again.id} of ${made.id}, total ${made.total}`);

  const county = await login(countyUser, countyPassword);
  // Pages of one school, followed by their Link header.
  const listed: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 5; page++) {
    const r = await county.GET("/api/v1/schools", { params: { query: { limit: 1, ...(cursor ? { cursor } : {}) } } });
    const p = expect("list_schools", 200, r);
    listed.push(...p.items.map((s) => s.id));
    const link = r.response.headers.get("link");
    check((link !== null) === (p.next_cursor != null), `Link ${link} beside next_cursor ${p.next_cursor}`);
    if (p.next_cursor == null) break;
    cursor = p.next_cursor;
  }
  check(listed.sort().join() === schools.map((s) => s.id).sort().join(), `county lists ${listed}`);

  const query = { scope: `county:${COUNTY}`, period: "2019-03", group_by: "school" } as const;
  const shares = await county.GET("/api/v1/reports/shares", { params: { query } });
  const report: Schemas["ShareReport"] = expect("get_shares", 200, shares);
  const share = (id: string) => report.rows.find((r) => r.unit?.code === id)?.share;
  check(share(buying.id) === "1.0000", `school A share ${share(buying.id)}`);
  check(share(silent.id) === null, `school B share ${share(silent.id)} (silent is null)`);
  check(report.summary.total === "50.00", `summary total ${report.summary.total}`);

  const etag = shares.response.headers.get("etag");
  check(etag !== null, "the report has an ETag");
  const revalidated = await county.GET("/api/v1/reports/shares", { params: { query, header: { "If-None-Match": etag } } });
  check(revalidated.response.status === 304, `If-None-Match answered ${revalidated.response.status}`);

  const file = await county.GET("/api/v1/reports/shares/export", { params: { query: { ...query, format: "xlsx" } }, parseAs: "arrayBuffer" });
  const bytes = expect("export_shares (xlsx)", 200, file);
  check(new Uint8Array(bytes).slice(0, 2).join() === "80,75", "the export is a ZIP (XLSX) file");

  const submission: Schemas["SubmissionRequest"] = {
    unit: `county:${COUNTY}`,
    period: "2019-03-H1",
    progress: "全县2所学校食堂已开展校农结合采购。",
    experience: "",
    difficulties: "",
    measures: "督促未采购学校按期录入。",
  };
  const submitted = await county.POST("/api/v1/submissions", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    body: submission,
  });
  check(submitted.response.status === 201, `create_submission answered ${submitted.response.status}: ${JSON.stringify(submitted.error)}`);
  return `county ${COUNTY}: ${listed.length} schools over ${listed.length} pages, shares 1.0000 / silent, 304 on revalidation, XLSX ${bytes.byteLength} bytes, submitted`;
}

main().then(
  (summary) => console.log(`PASS TypeScript client (openapi-typescript + openapi-fetch): ${summary}`),
  (e: unknown) => {
    console.error(`FAIL TypeScript client: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
