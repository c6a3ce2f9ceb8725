// kerasdet's web page: MediaPipe Tasks Vision's ObjectDetector runs the exported model on the camera
// or on a picked or dropped image. Everything it loads lies in this folder: config.json (written by
// `kerasdet export --format web`: model file, class names, score threshold), the model and the library.
// URL options, e.g. for comparing every detection: ?score=0.0&maxResults=100
"use strict";

const { FilesetResolver, ObjectDetector } = Vision; // vision_bundle.js, a classic script, defines Vision
const WASM = { wasmLoaderPath: "./vision_wasm_internal.js", wasmBinaryPath: "./vision_wasm_internal.wasm" };
const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324"];
const $ = (id) => document.getElementById(id);

// What the page shows, for scripts as well as eyes: box [xmin, ymin, xmax, ymax] in the image's pixels.
const state = (window.kerasdet = {
  ready: false, error: null, mode: "idle", config: null,
  frames: 0, fps: 0, msPerFrame: 0, detections: [], imagesDone: 0,
  detectUrl: (url) => serial(async () => showImage(await (await fetch(url)).blob())),
});
let detector = null;
let runningMode = "IMAGE"; // the detector's: changing it rebuilds MediaPipe's graph, so only when needed
let stream = null;
let queue = Promise.resolve();

// One thing at a time: switching the detector's mode while it detects would fail.
function serial(task) {
  const done = queue.then(task);
  queue = done.catch(() => {});
  return done;
}

async function start() {
  try {
    const config = (state.config = await loadConfig());
    document.title = $("title").textContent = config.title;
    $("about").textContent = `${config.library}, from this folder; kerasdet ${config.kerasdet}`;
    if (!(await FilesetResolver.isSimdSupported())) {
      throw new Error("this browser has no WebAssembly SIMD: open the page in a recent Chrome, Edge, Firefox or Safari");
    }
    detector = await ObjectDetector.createFromOptions(WASM, {
      baseOptions: { modelAssetPath: config.model }, runningMode: "IMAGE",
      scoreThreshold: config.score, maxResults: config.maxResults,
    });
    detector.detect(blank()); // the first detection sets MediaPipe up (hundreds of ms): not the user's
    state.ready = true;
    setStatus(`ready: ${config.classes.join(", ")}; boxes scoring ${config.score} or more`);
    $("camera").disabled = false;
  } catch (err) {
    fail(err);
  }
}

// config.json, with ?score= and ?maxResults= from the URL on top.
async function loadConfig() {
  const config = await (await fetch("config.json")).json();
  const query = new URLSearchParams(location.search);
  for (const key of ["score", "maxResults"]) if (query.has(key)) config[key] = Number(query.get(key));
  return config;
}

async function setMode(mode) {
  if (mode !== runningMode) await detector.setOptions({ runningMode: mode });
  runningMode = mode;
}

function blank() {
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [64, 48];
  canvas.getContext("2d").fillRect(0, 0, 64, 48);
  return canvas;
}

// MediaPipe's result as kerasdet lists it: a row per (box, class), a box read as two classes twice.
function rows(result) {
  return result.detections.flatMap((d) => {
    const { originX: x, originY: y, width: w, height: h } = d.boundingBox;
    return d.categories.map((c) => ({ box: [x, y, x + w, y + h], className: c.categoryName, score: c.score }));
  });
}

async function showImage(blob) {
  stopCamera();
  // the pixels as stored, as kerasdet reads them in Python (no colour-profile conversion)
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none" });
  await setMode("IMAGE");
  state.mode = "image";
  const start = performance.now();
  const found = rows(detector.detect(bitmap));
  const ms = performance.now() - start;
  draw(bitmap, bitmap.width, bitmap.height, found);
  bitmap.close();
  report(found, ms, 0);
  state.imagesDone += 1;
  return { detections: found, ms };
}

async function startCamera() {
  stopCamera();
  if (!navigator.mediaDevices) {
    return setStatus("the camera needs this page on https:// or http://localhost (see kerasdet's export guide)", true);
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: $("facing").value, width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
    });
  } catch (err) {
    return setStatus(`no camera: ${err.message || err}`, true);
  }
  const video = $("video");
  video.srcObject = stream;
  await video.play();
  await setMode("VIDEO");
  state.mode = "camera";
  state.frames = 0;
  $("camera").textContent = "Stop camera";
  loop(video);
}

// Each new camera frame once: detect, draw, count. Frames that arrive while detecting are skipped.
function loop(video) {
  const times = [];
  let last = -1;
  const step = () => {
    if (state.mode !== "camera") return;
    if (video.readyState >= 2 && video.currentTime !== last) {
      last = video.currentTime;
      const start = performance.now();
      const found = rows(detector.detectForVideo(video, start));
      const end = performance.now();
      times.push(end);
      while (times.length > 30) times.shift();
      const fps = times.length > 1 ? ((times.length - 1) * 1000) / (end - times[0]) : 0;
      state.frames += 1;
      draw(video, video.videoWidth, video.videoHeight, found);
      report(found, end - start, fps);
    }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

function stopCamera() {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  if (state.mode === "camera") state.mode = "idle";
  $("camera").textContent = "Start camera";
}

// The picture and its boxes, the best drawn last (on top). A small frame is drawn enlarged, so that
// the labels stay sharp when the page shows it at the screen's width.
function draw(source, width, height, detections) {
  const canvas = $("view");
  const ctx = canvas.getContext("2d");
  const scale = Math.max(1, 640 / width);
  const [w, h] = [Math.round(width * scale), Math.round(height * scale)];
  if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
  ctx.drawImage(source, 0, 0, w, h);
  const line = Math.max(2, Math.round(Math.min(w, h) / 140));
  ctx.lineWidth = line;
  ctx.font = `${line * 8}px system-ui, sans-serif`;
  ctx.textBaseline = "top";
  for (const { box, className, score } of [...detections].sort((a, b) => a.score - b.score)) {
    const [x0, y0, x1, y1] = box.map((v) => v * scale);
    const color = COLORS[Math.max(0, state.config.classes.indexOf(className)) % COLORS.length];
    const label = `${className} ${score.toFixed(2)}`;
    const [labelW, labelH] = [ctx.measureText(label).width + 2 * line, line * 9];
    const top = y0 >= labelH ? y0 - labelH : y0; // above the box, inside it at the picture's top edge
    const left = Math.max(0, Math.min(x0, w - labelW)); // inside the picture at its right edge
    ctx.strokeStyle = ctx.fillStyle = color;
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    ctx.fillRect(left, top, labelW, labelH);
    ctx.fillStyle = "#fff";
    ctx.fillText(label, left + line, top + line / 2);
  }
  $("hint").hidden = true;
}

function report(found, ms, fps) {
  Object.assign(state, { detections: found, msPerFrame: ms, fps });
  const rate = state.mode === "camera" ? `${fps.toFixed(1)} FPS · ` : "";
  $("stats").textContent = `${rate}${ms.toFixed(1)} ms/frame · ${found.length} found`;
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function fail(err) {
  state.error = String(err.message || err);
  const served = location.protocol === "file:" ? " (open the page through a web server: python -m http.server)" : "";
  setStatus(`cannot run the model: ${state.error}${served}`, true);
}

function ifReady(task) {
  return (...args) => (state.ready ? serial(() => task(...args)).catch(fail) : undefined);
}

$("camera").onclick = ifReady(() => (state.mode === "camera" ? stopCamera() : startCamera()));
$("file").onchange = ifReady(async (event) => {
  const [file] = event.target.files;
  event.target.value = ""; // picking the same file again is a change too
  if (file) await showImage(file);
});
const drop = $("drop");
drop.ondragover = (event) => { event.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const [file] = event.dataTransfer.files;
  if (file) ifReady(showImage)(file);
};
start();
