// Generates wwwroot/css/reader.css, the one stylesheet of the pages on Pages/Shared/_Layout.cshtml (the reader's pages
// and the staff sign-in pages that share their layout), issue 17: a reader on a phone should not download the 232 KB of
// Bootstrap for the few dozen rules a consent page uses.
//
// Sources stay where they are: Bootstrap from libman.json (wwwroot/lib/bootstrap) and the hand-written wwwroot/css/site.css.
// PurgeCSS keeps the rules whose selectors name a class, element or attribute found in the markup below; clean-css
// minifies the result (level 1 only: no rule merging or reordering, so the cascade stays Bootstrap's and site.css's).
// The output is committed, so a clone needs no npm. Rerun after changing reader markup (a test fails until you do):
//   src/NewsletterMigrator/Styles/build-reader-css
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { PurgeCSS } from "purgecss";
import CleanCSS from "clean-css";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const at = (p) => path.join(root, p);

// The markup that uses reader.css: every Razor file outside the staff area (whose layout keeps full Bootstrap).
// A reader-page script that adds classes at run time belongs here too (none does today).
const content = [at("src/NewsletterMigrator/Pages/**/*.cshtml"), at("wwwroot/js/embed*.js")];
const skip = [
  at("src/NewsletterMigrator/Pages/Admin/**"),
  at("src/NewsletterMigrator/Pages/Account/Manage/**"),
  at("src/NewsletterMigrator/Pages/Shared/_AdminLayout.cshtml"),
];

// Classes that appear in no .cshtml because ASP.NET writes them: the validation tag helpers' state classes.
const written = [
  "input-validation-error", "input-validation-valid",
  "field-validation-error", "field-validation-valid",
  "validation-summary-errors", "validation-summary-valid",
];

const sources = ["wwwroot/lib/bootstrap/dist/css/bootstrap.min.css", "wwwroot/css/site.css"];

const purged = await new PurgeCSS().purge({
  content,
  skippedContentGlobs: skip,
  css: sources.map(at),
  safelist: { standard: written },
  // Also drop what the kept rules never use: Bootstrap's :root custom properties, @keyframes, @font-face.
  variables: true,
  keyframes: true,
  fontFace: true,
  // Bootstrap's dark-mode blocks key on data-bs-theme, which no reader page sets; the default extractor keeps
  // every word of the markup, so a class built in Razor (class="@(x ? "a" : "b")") is kept as well.
});

// Same order as the layout used to load them: site.css overrides Bootstrap (e.g. .text-danger for contrast).
const css = sources.map((source) => purged.find((p) => p.file === at(source)).css).join("\n");
const minified = new CleanCSS({ level: 1, specialComments: "all" }).minify(css);
if (minified.errors.length) throw new Error(minified.errors.join("\n"));

const bootstrap = JSON.parse(await readFile(at("libman.json"), "utf8")).libraries.find((l) => l.library.startsWith("bootstrap@")).library;
// The sources' hash lets a test see that site.css (or Bootstrap) changed since this file was made.
const hash = createHash("sha256");
for (const source of sources) hash.update(await readFile(at(source)));
const banner = `/* Generated from ${bootstrap} and wwwroot/css/site.css by src/NewsletterMigrator/Styles/build-reader-css: do not edit. ` +
  `sources ${hash.digest("hex").slice(0, 16)} */\n`;
// Bootstrap's @charset would have to be the very first bytes; the subset is plain ASCII (checked), so it goes.
const styles = minified.styles.replace(/^@charset "UTF-8";/, "");
if (/[^\x00-\x7f]/.test(styles)) throw new Error("reader.css would contain non-ASCII characters: keep its @charset first");
const output = banner + styles + "\n";
await writeFile(at("wwwroot/css/reader.css"), output);
console.log(`wwwroot/css/reader.css: ${Buffer.byteLength(output)} bytes (from ${sources.join(" + ")})`);
