// Drives kerasdet's exported web page in Debian's headless Chromium (puppeteer-core, no browser download).
// Used by tests/unit/test_web_export.py and tools/web_browser.py, which serve the site and read the answer.
//
//   node driver.mjs JOB.json      -> one JSON object on stdout
//
// JOB: {chromium, url, video (a .y4m for the fake camera, or null), timeoutMs, width, height,
//       images: [url, ...] (each run through the page's image path: window.kerasdet.detectUrl),
//       repeat (passes over the images; the last one's answers are kept, each pass's ms),
//       upload: [file path, ...] (each picked with the page's <input type=file>, as a user does),
//       cameraFrames (start the camera and keep this many frames' detections), screenshot (a .png path)}
// Answer: {ready, error, console, images: [{detections, ms}], passes: [[ms, ...]], uploads: [{detections, ms}],
//          camera: [{frame, detections, ms, fps}, ...], screenshot,
//          foreign: [url, ...] (every request the page made outside the origin that served it: none, offline)}
import { readFileSync } from "node:fs";
import puppeteer from "puppeteer-core";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const timeout = job.timeoutMs ?? 60000;
const args = [
  "--headless=new", "--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-quic", "--enable-unsafe-swiftshader", "--autoplay-policy=no-user-gesture-required",
];
if (job.video) {
  args.push("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            `--use-file-for-fake-video-capture=${job.video}`);
}
const answer = { ready: false, error: null, console: [], images: [], passes: [], uploads: [], camera: [],
                 screenshot: null, foreign: [] };
const browser = await puppeteer.launch({ executablePath: job.chromium, headless: true, args, timeout });
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeout);
  await page.setViewport({ width: job.width ?? 900, height: job.height ?? 760 });
  page.on("console", (message) => answer.console.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (err) => answer.console.push(`pageerror: ${err.message}`));
  const origin = new URL(job.url).origin;
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!["data:", "blob:"].includes(url.protocol) && url.origin !== origin) answer.foreign.push(request.url());
  });
  await page.goto(job.url);
  await page.waitForFunction("window.kerasdet && (window.kerasdet.ready || window.kerasdet.error)");
  Object.assign(answer, await page.evaluate("({ready: kerasdet.ready, error: kerasdet.error})"));
  if (answer.ready && job.images?.length) {
    for (let pass = 0; pass < (job.repeat ?? 1); pass++) {
      answer.images = [];
      for (const url of job.images) answer.images.push(await page.evaluate((u) => kerasdet.detectUrl(u), url));
      answer.passes.push(answer.images.map((image) => image.ms));
    }
  }
  for (const path of answer.ready ? job.upload ?? [] : []) {
    const done = await page.evaluate("kerasdet.imagesDone");
    await (await page.$("#file")).uploadFile(path);
    await page.waitForFunction((n) => kerasdet.imagesDone > n, {}, done);
    answer.uploads.push(await page.evaluate("({detections: kerasdet.detections, ms: kerasdet.msPerFrame})"));
  }
  if (answer.ready && job.cameraFrames) {
    await page.click("#camera");
    answer.camera = await page.evaluate(cameraFrames, job.cameraFrames, timeout * 0.8);
  }
  if (job.screenshot) {
    await page.screenshot({ path: job.screenshot });
    answer.screenshot = job.screenshot;
  }
} catch (err) {
  answer.error = answer.error ?? String(err.message || err);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(answer));

// In the page: what window.kerasdet holds after each new camera frame, until `count` frames or `ms` pass.
function cameraFrames(count, ms) {
  return new Promise((resolve) => {
    const seen = [];
    const end = performance.now() + ms;
    let last = 0;
    const tick = () => {
      const { frames, detections, msPerFrame, fps } = window.kerasdet;
      if (frames !== last) seen.push({ frame: (last = frames), detections, ms: msPerFrame, fps });
      if (seen.length >= count || performance.now() > end) resolve(seen);
      else requestAnimationFrame(tick);
    };
    tick();
  });
}
