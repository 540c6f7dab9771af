// browse.mjs — drives Debian's chromium (headless, through playwright-core)
// for the dashboard's browser tests (tests/e2e/test_web_browser.py). It only
// observes: the pytest side decides what passes.
//
//   node browse.mjs PLAN.json   ->  JSON results on stdout
//
// PLAN: {"base": "http://127.0.0.1:PORT", "shots": DIR,
//        "pages": [{"path": "/...", "name": "overview", "bypass_csp": false}],
//        "crawl": {"start": "/", "max": 80}}
// For each page: HTTP status, the Content-Security-Policy header, title,
// every inline <svg> with its rendered size and number of shapes, the
// same-origin links, the dialogs opened (alert/confirm/prompt: an executed
// payload), the script elements and event-handler attributes in the DOM,
// CSP violations and console errors, the visible text; a full-page
// screenshot DIR/NAME.png. text is what is visible, content all the
// text (collapsed <details> too). bypass_csp turns the page's CSP off, so that
// only pyti's escaping stands between a payload and its execution.
// crawl: follows same-origin links breadth first and records each status.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));

const browser = await chromium.launch({
  executablePath: process.env.PYTI_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update",
    "--disable-default-apps", "--disable-sync", "--no-first-run",
    "--metrics-recording-only", "--disable-domain-reliability",
    "--disable-client-side-phishing-detection", "--disable-features=Translate,MediaRouter",
  ],
});

async function visit(ctx, p) {
  const page = await ctx.newPage();
  const dialogs = [], consoleErrors = [], requests = [];
  page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("request", (r) => requests.push(r.url()));
  const resp = await page.goto(plan.base + p.path, { waitUntil: "load" });
  // Give a payload that would fire late (onerror of an image, a timer) a chance.
  await page.waitForTimeout(150);
  const info = await page.evaluate(() => {
    const svgs = [...document.querySelectorAll("svg")].map((s) => {
      const r = s.getBoundingClientRect();
      return { width: r.width, height: r.height,
               shapes: s.querySelectorAll("rect,circle,polyline,line").length,
               title: (s.querySelector("title") || {}).textContent || "" };
    });
    const links = [...document.querySelectorAll("a[href]")].map((a) => a.getAttribute("href"));
    let handlers = 0;
    for (const el of document.querySelectorAll("*"))
      for (const a of el.attributes) if (a.name.toLowerCase().startsWith("on")) handlers++;
    return { title: document.title, svgs, links,
             scripts: document.querySelectorAll("script").length,
             images: document.querySelectorAll("img").length,
             handlers, text: document.body ? document.body.innerText : "",
             // textContent includes collapsed <details> (logs, failed tests)
             content: document.body ? document.body.textContent : "" };
  });
  if (p.name)
    await page.screenshot({ path: join(plan.shots, p.name + ".png"), fullPage: true });
  const headers = resp ? resp.headers() : {};
  await page.close();
  return { path: p.path, status: resp ? resp.status() : 0,
           csp: headers["content-security-policy"] || null,
           content_type: headers["content-type"] || null,
           dialogs, console_errors: consoleErrors,
           foreign_requests: requests.filter((u) => !u.startsWith(plan.base)), ...info };
}

const out = { pages: [], crawl: [] };
const strict = await browser.newContext();
const bypass = await browser.newContext({ bypassCSP: true });
for (const p of plan.pages || [])
  out.pages.push(await visit(p.bypass_csp ? bypass : strict, p));

if (plan.crawl) {
  const seen = new Set(), queue = [plan.crawl.start];
  const page = await strict.newPage();
  while (queue.length && seen.size < (plan.crawl.max || 50)) {
    const path = queue.shift();
    if (seen.has(path)) continue;
    seen.add(path);
    const resp = await page.goto(plan.base + path, { waitUntil: "load" });
    const links = await page.evaluate(() =>
      [...document.querySelectorAll("a[href]")].map((a) => a.getAttribute("href")));
    out.crawl.push({ path, status: resp ? resp.status() : 0 });
    for (const l of links) {
      if (!l.startsWith("/") || l.startsWith("//")) continue;
      const target = l.split("#")[0];
      if (target && !seen.has(target)) queue.push(target);
    }
  }
  await page.close();
}
await browser.close();
process.stdout.write(JSON.stringify(out));
