// Page 3b, the design studio: the design assistant (chat), the live mockup with its layer
// editor, the product and color, and the hand-over to the quantities page.
//
// The studio works on one design, named in its URL (/studio?design=<id>): every edit is saved
// to it on the server (POST /api/designs; the chat's brief becomes artwork through
// POST /api/generate-image, and later chat messages change the design on the server directly).
// Making a picture is an image job: the server answers at once, and the studio shows progress
// and polls until the design is ready (lib/jobs.js); leaving and coming back resumes it.
// This browser keeps each design's last saved state and its conversation by design id, so a
// reload, Back and Forward, and a second tab all show the same design. Starting from a product
// (/studio?product=tote&color=Natural) makes a new design once and puts its id in the URL.

import { ApiError, FUNCTION_TIMEOUT_MS, api, describeError, getJSON, postJSON } from '../lib/api.js';
import { createChat } from '../lib/chat.js';
import { el } from '../lib/dom.js';
import { FONT_LABELS, createEditor, layerName } from '../lib/editor.js';
import { JobFailed, waitForJob } from '../lib/jobs.js';
import { findColor, firstBulkTier, loadCatalog, swatches } from '../lib/products.js';
import { wireShare } from '../lib/share.js';
import { currentOrder, designStore, pendingImageJob, studioState } from '../lib/store.js';
import { ideaFromUrl, showIdeas } from '../lib/suggestions.js';
import '../lib/site.js';

const SAVE_DELAY_MS = 700;
const COLOR_DELAY_MS = 350;
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

const studioRoot = document.querySelector('.studio');
const stageRoot = document.getElementById('stage');
const stageHelp = document.getElementById('stage-help');
const productSelect = document.getElementById('product-select');
const swatchRoot = document.getElementById('color-swatches');
const colorNote = document.getElementById('color-note');
const productLine = document.getElementById('studio-product');
const layerList = document.getElementById('layer-list');
const layersEmpty = document.getElementById('layers-empty');
const ideasRoot = document.getElementById('studio-ideas');
const controls = document.getElementById('layer-controls');
const saveStatus = document.getElementById('save-status');
const proof = document.getElementById('proof');
const proofFront = document.getElementById('proof-front');
const proofBack = document.getElementById('proof-back');
const notice = document.getElementById('studio-notice');
const continueButton = document.getElementById('continue');
const continueLabel = continueButton.textContent;
const newDesignLink = document.getElementById('new-design');
const shareButton = document.getElementById('share-design');
const undoButton = document.getElementById('undo');
const redoButton = document.getElementById('redo');
const sideSwitch = document.getElementById('side-switch');
const addTextForm = document.getElementById('add-text');
const newText = document.getElementById('new-text');
const uploadInput = document.getElementById('upload-image');

const state = {
  products: [],
  product: null,
  color: null,
  wantedColor: null, // the color the shopper last picked, kept for products that have it
  design: null, // the server's last DesignOut
  conversationId: null,
  dirty: false, // layers changed here since the last save
  ready: false, // start-up is over: from now on, changes are kept
};
let saveTimer = 0;
let saving = null;
let colorTimer = 0;
let following = null; // the id of the image job the studio waits for

const editor = createEditor(stageRoot, {
  onCommit: () => {
    renderLayerList();
    scheduleSave();
  },
  onSelect: (layer) => {
    renderLayerList();
    renderControls(layer);
  },
  onHistory: ({ canUndo, canRedo }) => {
    undoButton.disabled = !canUndo;
    redoButton.disabled = !canRedo;
  },
  announce: (text) => setStatus(text),
});

// ---- the chat ------------------------------------------------------------------------------

const chat = createChat(document.getElementById('design-chat'), {
  label: 'Describe your design',
  placeholder: 'Describe your idea…',
  intro: 'Hi! Tell me what you would like to make: the product, its color, an image, and any text. I will put it on the product for you to fine-tune.',
  suggestions: [
    'A neon tiger on a black hoodie',
    'A navy tee with “Dawn Patrol” in bold',
    'A minimal mountain on a natural tote',
  ],
  send: sendToAssistant,
  onChange: () => persist(),
});

async function sendToAssistant(message) {
  await flushSave();
  const answer = await postJSON('/api/chat', {
    conversation_id: state.conversationId ?? undefined,
    design_id: state.design?.design_id ?? undefined,
    message,
  }, { timeoutMs: FUNCTION_TIMEOUT_MS.chat });
  state.conversationId = answer.conversation_id;
  persist();
  if (answer.job_id) {
    // A new picture is being drawn: the reply shows now, the design when it is ready.
    const { product_id, color } = answer.brief;
    followImageJob({ job_id: answer.job_id, design_id: answer.design_id, retry: { product_id, color, design_id: answer.design_id, brief: answer.brief } });
  } else if (answer.design) {
    applyDesign(answer.design, { adoptColor: true });
  } else if (!state.design && !following && !isEmpty(answer.brief)) {
    await createFromBrief(answer.brief);
  } else if (answer.brief?.product_id && !state.design) {
    chooseProduct(answer.brief.product_id, answer.brief.color ?? state.wantedColor);
    if (answer.brief.color && state.color.name === answer.brief.color) state.wantedColor = state.color.name;
    persist();
  }
  return answer.reply;
}

function isEmpty(brief) {
  return !brief || (!brief.image && !(brief.texts?.length));
}

/** The first design of the conversation: its brief on the product it names (or the one chosen). */
async function createFromBrief(brief) {
  const product = state.products.find((p) => p.id === brief.product_id) ?? state.product;
  const color = (brief.color && findColor(product, brief.color)) || findColor(product, state.wantedColor) || (product === state.product ? state.color : product.colors[0]);
  chooseProduct(product.id, color.name);
  setStatus('Creating your design…', 'busy');
  const started = await startImageJob({
    prompt: brief.image?.prompt ?? '',
    product_id: product.id,
    color: color.name,
    brief: { ...brief, product_id: product.id, color: color.name },
  });
  followImageJob(started);
}

// ---- image jobs ----------------------------------------------------------------------------

/**
 * POST /api/generate-image (JSON, or the upload's form): the server checks it and answers 202
 * with the job making the design. Resolves with what `followImageJob` needs.
 */
async function startImageJob(body) {
  const { job_id } = await api('/api/generate-image', { method: 'POST', body, timeoutMs: FUNCTION_TIMEOUT_MS.generate_image });
  const form = body instanceof FormData;
  return { job_id, design_id: (form ? body.get('design_id') : body.design_id) ?? null, retry: form ? null : body };
}

/** Start an image job and follow it; a request the server refuses shows its error at once. */
async function requestImageJob(body, options) {
  try {
    await followImageJob(await startImageJob(body), options);
  } catch (error) {
    showError(error, options.failure);
    setStatus('Not saved.', 'error');
  }
}

/**
 * Wait for an image job (`{job_id, design_id, retry}`) and show its design; meanwhile, what is
 * being made and for how long. Kept in this browser until it ends, so the studio resumes it.
 * A failed job shows why, and a button to try again (`retry`: the request to send again).
 */
async function followImageJob(job, { label = 'Drawing your design…', failure = 'Your design was not made', done } = {}) {
  pendingImageJob.set(job);
  following = job.job_id;
  let since = Date.now();
  const tick = () => showProgress(label, Math.max(0, Math.floor((Date.now() - since) / 1000)));
  tick();
  const ticker = setInterval(tick, 1000);
  try {
    const design = await waitForJob(job.job_id, {
      onProgress: (seen) => {
        since = Date.now() - seen.elapsed_seconds * 1000;
      },
    });
    if (following !== job.job_id) return;
    hideNotice();
    applyDesign(design, { adoptColor: true });
    done?.(design);
  } catch (error) {
    if (following !== job.job_id) return;
    showJobFailure(error, failure, job.retry);
    setStatus('Not saved.', 'error');
  } finally {
    clearInterval(ticker);
    if (following === job.job_id) {
      following = null;
      pendingImageJob.clear();
    }
  }
}

function showProgress(label, seconds) {
  notice.className = 'notice notice-info notice-compact job-progress';
  notice.setAttribute('role', 'status');
  notice.replaceChildren(el('div', {}, el('p', { class: 'notice-title', text: label }), el('p', { class: 'notice-detail', text: `${seconds} s so far: a new picture takes up to a minute.` })));
  notice.hidden = false;
  setStatus(`${label} ${seconds} s`, 'busy');
}

function showJobFailure(error, heading, retry) {
  const shown = error instanceof JobFailed ? new ApiError({ status: 422, code: error.code, message: error.message }) : error;
  showError(shown, heading);
  const again = () => {
    hideNotice();
    if (retry) requestImageJob(retry, { failure: heading });
    else uploadInput.click(); // an upload: choose the image again
  };
  notice.append(el('button', { class: 'btn btn-secondary btn-sm', type: 'button', text: 'Try again', on: { click: again } }));
}

// ---- the design ----------------------------------------------------------------------------

/** The design this page is on, from now on: its id goes into the URL (no new history entry). */
function adopt(designId) {
  const url = new URL(window.location.href);
  if (url.searchParams.get('design') !== designId) {
    url.search = `?${new URLSearchParams({ design: designId })}`;
    history.replaceState(history.state, '', url);
  }
  studioState.set({ design_id: designId });
  newDesignLink.hidden = false;
}

/**
 * Show a design the server made or saved; its layers become the editor's (one undo step).
 * `adoptColor`: the design's color is the shopper's choice now (the assistant changed it).
 */
function applyDesign(design, { fromSave = false, adoptColor = false } = {}) {
  if (state.design?.design_id !== design.design_id) adopt(design.design_id);
  if (adoptColor || !state.wantedColor) state.wantedColor = design.color;
  state.design = design;
  chooseProduct(design.product_id, design.color, { silent: true });
  if (!fromSave) {
    editor.setLayers(design.layers);
    showSideWithLayers(design.layers);
  } else {
    mergeUrls(design.layers);
  }
  showProof(design);
  persist();
  renderLayerList();
  setStatus(design.warnings?.length ? 'Saved. An image may print blurry at its size.' : 'Saved.', 'saved');
}

/** Show the side the design is on when the one in view is empty. */
function showSideWithLayers(layers) {
  const sides = new Set(layers.map((layer) => layer.area));
  if (sides.size && !sides.has(editor.side)) editor.setSide([...sides][0]);
}

/** Reopen a design as this browser last kept it: layers, product, color, conversation. */
function restore(record) {
  state.design = record.design;
  state.conversationId = record.conversation_id ?? null;
  state.wantedColor = record.wanted_color ?? record.design.color;
  chooseProduct(record.design.product_id, record.design.color, { silent: true });
  const layers = record.dirty && record.layers ? record.layers : record.design.layers;
  editor.setLayers(layers, { record: false });
  showSideWithLayers(layers);
  showProof(record.design);
  chat.restore(record.messages ?? []);
  renderLayerList();
  state.dirty = Boolean(record.dirty);
  newDesignLink.hidden = false;
  renderReady();
  if (state.dirty) scheduleSave();
  else setStatus(record.design.warnings?.length ? 'Saved. An image may print blurry at its size.' : 'Saved.', 'saved');
}

// A save answers with the layers as stored: image URLs come from the server.
function mergeUrls(serverLayers) {
  const urls = new Map(serverLayers.filter((l) => l.type === 'image').map((l) => [l.id, l.url]));
  const layers = editor.layers;
  if (layers.some((l) => l.type === 'image' && !l.url && urls.get(l.id))) {
    editor.setLayers(layers.map((l) => (l.type === 'image' && !l.url ? { ...l, url: urls.get(l.id) } : l)), { record: false });
  }
}

function showProof(design) {
  if (!design.mockups?.front) return;
  proofFront.src = design.mockups.front;
  proofBack.src = design.mockups.back;
  proof.hidden = false;
}

function scheduleSave() {
  state.dirty = true;
  persist();
  setStatus('Unsaved changes…', 'busy');
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => save().catch(() => {}), SAVE_DELAY_MS);
}

/** Save the editor's layers now if they changed; resolves when nothing is left to save. */
async function flushSave() {
  clearTimeout(saveTimer);
  if (saving) await saving.catch(() => {});
  if (state.dirty) await save();
}

async function save() {
  clearTimeout(saveTimer);
  if (saving) {
    await saving.catch(() => {});
    if (!state.dirty) return;
  }
  if (!state.dirty || !state.product || !state.color) return;
  const layers = editor.layers.map(({ url, ...layer }) => layer);
  if (!layers.length && !state.design) {
    state.dirty = false;
    persist();
    return;
  }
  state.dirty = false;
  setStatus('Saving…', 'busy');
  saving = postJSON('/api/designs', {
    design_id: state.design?.design_id ?? undefined,
    product_id: state.product.id,
    color: state.color.name,
    layers,
  });
  try {
    const design = await saving;
    if (state.dirty) {
      if (state.design?.design_id !== design.design_id) adopt(design.design_id);
      state.design = design;
    } else {
      applyDesign(design, { fromSave: true });
    }
    hideNotice();
  } catch (error) {
    state.dirty = true;
    showError(error, 'Your last change was not saved');
    setStatus('Not saved.', 'error');
    throw error;
  } finally {
    saving = null;
    persist();
  }
}

/** Keep the design (or, before there is one, the product and the conversation) in this browser. */
function persist() {
  if (!state.ready) return;
  const conversation = { conversation_id: state.conversationId, messages: chat.messages };
  if (state.design) {
    designStore.put(state.design.design_id, {
      design: state.design,
      layers: editor.layers,
      dirty: state.dirty,
      wanted_color: state.wantedColor,
      ...conversation,
    });
  } else {
    studioState.set({ product_id: state.product?.id ?? null, color: state.color?.name ?? null, wanted_color: state.wantedColor, ...conversation });
  }
  renderReady();
}

/** Continue once the design is saved somewhere and has something to print. */
function renderReady() {
  const ready = Boolean(state.design && editor.layers.length);
  continueButton.disabled = !ready;
  shareButton.hidden = !ready;
  studioRoot.classList.toggle('has-design', ready);
}

// The link shows the design as it is when opened: later changes show there too.
wireShare(shareButton, document.getElementById('share-result'), () => state.design?.design_id);

function setStatus(text, tone = '') {
  saveStatus.textContent = text;
  saveStatus.dataset.tone = tone;
}

function showError(error, heading) {
  const { title, detail } = describeError(error);
  notice.className = 'notice notice-error notice-compact';
  notice.setAttribute('role', 'alert');
  notice.replaceChildren(el('div', {}, el('p', { class: 'notice-title', text: heading ?? title }), el('p', { class: 'notice-detail', text: heading ? `${title}. ${detail}` : detail })));
  notice.hidden = false;
}

function hideNotice() {
  notice.hidden = true;
  notice.replaceChildren();
}

// The same design edited in another tab: follow it, unless this tab has changes of its own.
window.addEventListener('storage', (event) => {
  const id = state.design?.design_id;
  if (!id || event.key !== designStore.key(id) || state.dirty || saving) return;
  const record = designStore.get(id);
  if (!record?.design) return;
  const layers = record.dirty && record.layers ? record.layers : record.design.layers;
  const changed = JSON.stringify(layers) !== JSON.stringify(editor.layers) || record.design.version !== state.design.version || record.design.color !== state.color?.name || record.design.product_id !== state.product?.id;
  state.conversationId = record.conversation_id ?? state.conversationId;
  if ((record.messages?.length ?? 0) !== chat.messages.length) chat.restore(record.messages ?? []);
  if (!changed) return;
  state.design = record.design;
  state.wantedColor = record.wanted_color ?? state.wantedColor;
  chooseProduct(record.design.product_id, record.design.color, { silent: true });
  editor.setLayers(layers, { record: false });
  showProof(record.design);
  renderLayerList();
  renderReady();
  setStatus('Saved (changed in another tab).', 'saved');
});

// Back or Forward from a page restored from the browser's cache: the button is ready again,
// and the design is the one kept here (another page or tab may have moved on).
window.addEventListener('pageshow', (event) => {
  if (!event.persisted) return;
  continueButton.textContent = continueLabel;
  continueButton.removeAttribute('aria-busy');
  const record = state.design ? designStore.get(state.design.design_id) : null;
  if (record?.design && !state.dirty && !saving && record.saved_at) restore(record);
});

// ---- product and color ---------------------------------------------------------------------

function chooseProduct(productId, colorName, { silent = false } = {}) {
  const product = state.products.find((p) => p.id === productId);
  if (!product) return;
  const color = findColor(product, colorName) ?? (product === state.product ? state.color : null) ?? product.colors[0];
  const changed = product !== state.product;
  state.product = product;
  state.color = color;
  productSelect.value = product.id;
  if (changed) editor.setProduct(product, color);
  else editor.setColor(color);
  renderSwatches();
  renderSideSwitch();
  productLine.textContent = `${product.name} · ${color.name}`;
  showIdeasWhileEmpty();
  if (!silent) persist();
}

/** The day's ideas for the product while the design is empty; picking one starts from it. */
function showIdeasWhileEmpty() {
  const productId = editor.layers.length ? null : state.product?.id;
  if (!productId || ideasRoot.dataset.product === productId) {
    ideasRoot.hidden = !productId || ideasRoot.dataset.empty === '1';
    return;
  }
  // Asked for once the empty studio has been looked at for a moment, not by every quick start.
  showIdeas(ideasRoot, productId, { onPick: (brief, idea) => startFromIdea(brief, idea.title), settleMs: 1500 });
}

/** A design made from an idea's brief (picked here, or on a product page: ?idea=...). */
async function startFromIdea(brief, title) {
  chat.say(title ? `Starting from “${title}”. Tell me what to change.` : 'Here is the idea you picked. Tell me what to change.');
  try {
    await createFromBrief(brief);
  } catch (error) {
    showError(error, 'The idea did not load');
    setStatus('Not saved.', 'error');
  }
}

function renderSwatches() {
  const product = state.product;
  swatchRoot.replaceChildren(
    swatches(product, state.color, (color) => {
      state.color = color;
      state.wantedColor = color.name;
      colorNote.textContent = '';
      editor.setColor(color);
      productLine.textContent = `${product.name} · ${color.name}`;
      clearTimeout(colorTimer);
      colorTimer = setTimeout(() => recolor(), COLOR_DELAY_MS);
    }, { legend: 'Color', name: 'studio-color' }),
  );
}

// A new color or product re-lays the design out on the server when it came from a brief (so a
// later chat message keeps the new choice); a design of hand-made layers is simply saved.
async function recolor() {
  if (!state.design) {
    persist();
    return;
  }
  if (isEmpty(state.design.brief)) {
    state.dirty = true;
    await save().catch(() => {});
    return;
  }
  await flushSave().catch(() => {});
  setStatus('Updating your design…', 'busy');
  await requestImageJob({
    product_id: state.product.id,
    color: state.color.name,
    design_id: state.design.design_id,
    brief: { ...state.design.brief, product_id: state.product.id, color: state.color.name },
  }, { label: 'Updating your design…', failure: 'We could not change the product' });
}

// Another product keeps the color the shopper picked when it comes in it; when it does not,
// its first color stands in, and the note says so (the picked color returns with a product
// that has it).
productSelect.addEventListener('change', () => {
  const product = state.products.find((p) => p.id === productSelect.value);
  const wanted = state.wantedColor ?? state.color?.name;
  const kept = findColor(product, wanted);
  chooseProduct(product.id, (kept ?? product.colors[0]).name);
  colorNote.textContent = kept || !wanted ? '' : `The ${product.name} does not come in ${wanted}, so it shows in ${state.color.name}. Pick any color above.`;
  recolor();
});

function renderSideSwitch() {
  // The editor may change sides (a restored selection, undo) before the catalog has loaded;
  // `chooseProduct` draws the switch once the product is known.
  if (!state.product) return;
  const sides = state.product.print_areas.map((a) => a.name);
  for (const button of sideSwitch.querySelectorAll('[data-side]')) {
    button.hidden = !sides.includes(button.dataset.side);
    button.setAttribute('aria-checked', String(button.dataset.side === editor.side));
    button.tabIndex = button.dataset.side === editor.side ? 0 : -1;
  }
}

sideSwitch.addEventListener('click', (event) => {
  const button = event.target.closest('[data-side]');
  if (button) editor.setSide(button.dataset.side);
});
sideSwitch.addEventListener('keydown', (event) => {
  if (!['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(event.key)) return;
  event.preventDefault();
  const buttons = [...sideSwitch.querySelectorAll('[data-side]:not([hidden])')];
  const index = buttons.findIndex((b) => b.dataset.side === editor.side);
  const next = buttons[(index + (event.key === 'ArrowLeft' || event.key === 'ArrowUp' ? -1 : 1) + buttons.length) % buttons.length];
  editor.setSide(next.dataset.side);
  next.focus();
});
stageRoot.addEventListener('sidechange', () => {
  renderSideSwitch();
  renderLayerList();
});

// ---- phones: what the sticky mockup and the bottom bar cover -------------------------------

const stageSection = document.querySelector('.studio-stage');
const bottomBar = document.querySelector('.tool-next');
const header = document.querySelector('.site-header');

/** The page's scroll padding follows the sticky mockup, the Continue bar and the layer sheet. */
function measureCover() {
  const sticky = getComputedStyle(stageSection).position === 'sticky';
  const fixed = getComputedStyle(bottomBar).position === 'fixed';
  const top = (header?.offsetHeight ?? 0) + (sticky ? stageSection.offsetHeight : 0);
  const bottom = fixed ? bottomBar.offsetHeight + (controls.hidden ? 0 : controls.offsetHeight) : 0;
  document.documentElement.style.setProperty('--studio-cover-top', `${top}px`);
  document.documentElement.style.setProperty('--studio-cover-bottom', `${bottom}px`);
}

new ResizeObserver(measureCover).observe(stageSection);
new ResizeObserver(measureCover).observe(bottomBar);
new ResizeObserver(measureCover).observe(controls);

// ---- help: for the pointer in hand ---------------------------------------------------------

const touchHelp = window.matchMedia('(pointer: coarse), (max-width: 40rem)');

function renderHelp() {
  if (touchHelp.matches) {
    stageHelp.dataset.help = 'touch';
    stageHelp.textContent = 'Tap a layer to select it, then drag it to move. Drag its corner handle to resize and its top handle to rotate; fine-tune in the panel that opens.';
  } else {
    stageHelp.dataset.help = 'keys';
    stageHelp.replaceChildren(
      'Select a layer, then drag it, or use the arrow keys to move, ',
      el('kbd', { text: '+' }), '/', el('kbd', { text: '−' }), ' to resize and ',
      el('kbd', { text: '[' }), '/', el('kbd', { text: ']' }), ' to rotate. ',
      el('kbd', { text: 'Delete' }), ' removes it.',
    );
  }
}

renderHelp();
touchHelp.addEventListener('change', renderHelp);

// ---- layers panel --------------------------------------------------------------------------

function renderLayerList() {
  const layers = editor.layers;
  const selected = editor.selected?.id ?? null;
  // Rebuilding the list must not drop keyboard focus from the layer's button.
  const focused = layerList.contains(document.activeElement) ? document.activeElement.closest('[data-layer]')?.dataset.layer : null;
  // Print-quality warnings of the last saved design, by layer (an upload printed under 150 DPI).
  const warnings = new Map((state.design?.warnings ?? []).map((warning) => [warning.layer, warning]));
  layersEmpty.hidden = layers.length > 0;
  showIdeasWhileEmpty();
  layerList.replaceChildren(
    ...[...layers].reverse().map((layer) => {
      const warning = warnings.get(layer.id);
      const warningId = `layer-warning-${layer.id}`;
      return el(
        'li',
        { class: 'layer-item' },
        el(
          'button',
          {
            class: 'layer-button',
            type: 'button',
            'aria-pressed': String(layer.id === selected),
            'aria-describedby': warning ? warningId : null,
            dataset: { layer: layer.id },
            on: { click: () => editor.focusLayer(layer.id) },
          },
          el('span', { class: `layer-icon layer-icon-${layer.type}`, 'aria-hidden': 'true' }),
          el('span', { class: 'layer-label', text: layerName(layer) }),
          el('span', { class: 'layer-side', text: layer.area === 'back' ? 'Back' : 'Front' }),
        ),
        warning ? el('p', { class: 'layer-warning', id: warningId, text: warningText(warning) }) : null,
      );
    }),
  );
  if (focused) layerList.querySelector(`[data-layer="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
}

function warningText(warning) {
  if (warning.code === 'low_resolution') {
    return `May print blurry at this size: ${warning.effective_dpi} pixels per inch, 150 prints sharp. Make it smaller or upload a larger image.`;
  }
  return 'May not print as well as it shows.';
}

// A slider updates the layer as it moves and records one undo step when it is let go.
function range(label, id, { min, max, step, value, format, onInput }) {
  const output = el('output', { class: 'range-value', for: id, text: format(value) });
  const input = el('input', { class: 'range', type: 'range', id, min, max, step, value });
  input.addEventListener('input', () => {
    output.textContent = format(Number(input.value));
    onInput(Number(input.value), false);
  });
  input.addEventListener('change', () => onInput(Number(input.value), true));
  return el('div', { class: 'field field-range' }, el('div', { class: 'range-head' }, el('label', { class: 'field-label', for: id, text: label }), output), input);
}

let slideStart = null;

function slide(id, patch, done) {
  slideStart ??= editor.snapshot();
  editor.update(id, patch, { record: false });
  if (done) {
    editor.commitFrom(slideStart);
    slideStart = null;
  }
}

/** Bring forward / Send backward: aria-disabled at either end, so focus stays on the button. */
function stackButtons(layer) {
  const place = editor.stacking(layer.id);
  const forward = el('button', { class: 'btn btn-secondary btn-sm', type: 'button', id: 'layer-forward', text: 'Bring forward', 'aria-disabled': String(place.index >= place.count - 1) });
  const backward = el('button', { class: 'btn btn-secondary btn-sm', type: 'button', id: 'layer-backward', text: 'Send backward', 'aria-disabled': String(place.index <= 0) });
  forward.addEventListener('click', () => forward.getAttribute('aria-disabled') !== 'true' && editor.restack(layer.id, 1));
  backward.addEventListener('click', () => backward.getAttribute('aria-disabled') !== 'true' && editor.restack(layer.id, -1));
  return el('div', { class: 'controls-actions', role: 'group', 'aria-label': 'Stacking order' }, forward, backward);
}

function updateStackButtons(layer) {
  const place = editor.stacking(layer.id);
  controls.querySelector('#layer-forward')?.setAttribute('aria-disabled', String(place.index >= place.count - 1));
  controls.querySelector('#layer-backward')?.setAttribute('aria-disabled', String(place.index <= 0));
}

function renderControls(layer) {
  const hadFocus = controls.contains(document.activeElement) ? document.activeElement.id : null;
  if (!layer) {
    controls.hidden = true;
    controls.replaceChildren();
    delete controls.dataset.layer;
    document.body.classList.remove('has-sheet');
    return;
  }
  // Keep typing undisturbed: while the panel has focus, only the numbers follow the layer.
  if (controls.dataset.layer === layer.id && hadFocus !== null) {
    for (const [name, format] of [['scale', (v) => `${Math.round(v * 100)}%`], ['rotation', (v) => `${Math.round(v)}°`]]) {
      const input = controls.querySelector(`#layer-${name}`);
      if (input && document.activeElement !== input) {
        input.value = layer[name];
        input.closest('.field').querySelector('output').textContent = format(layer[name]);
      }
    }
    updateStackButtons(layer);
    return;
  }
  controls.dataset.layer = layer.id;
  const done = el('button', { class: 'btn btn-secondary btn-sm controls-done', type: 'button', text: 'Done' });
  // Done closes the panel (the sheet on a phone): the layer keeps focus, no longer selected.
  done.addEventListener('click', () => {
    editor.select(null);
    editor.focusLayer(layer.id, { select: false });
  });
  const parts = [el('div', { class: 'controls-head' }, el('p', { class: 'controls-title', id: 'controls-title', text: layerName(layer) }), done)];
  if (layer.type === 'text') {
    const text = el('input', { class: 'input', id: 'layer-text', type: 'text', maxlength: 40, value: layer.text, autocomplete: 'off' });
    text.addEventListener('change', () => {
      const value = text.value.trim();
      if (value) editor.update(layer.id, { text: value });
      else text.value = editor.selected?.text ?? '';
    });
    const ink = el('input', { class: 'color-input', id: 'layer-color', type: 'color', value: layer.color });
    ink.addEventListener('change', () => editor.update(layer.id, { color: ink.value.toLowerCase() }));
    const weight = el(
      'select',
      { class: 'select', id: 'layer-font' },
      Object.entries(FONT_LABELS).map(([font, label]) => el('option', { value: font, selected: font === layer.font, text: label })),
    );
    weight.addEventListener('change', () => editor.update(layer.id, { font: weight.value }));
    parts.push(
      el('div', { class: 'field' }, el('label', { class: 'field-label', for: 'layer-text', text: 'Text' }), text),
      el(
        'div',
        { class: 'field-row' },
        el('div', { class: 'field' }, el('label', { class: 'field-label', for: 'layer-font', text: 'Weight' }), weight),
        el('div', { class: 'field' }, el('label', { class: 'field-label', for: 'layer-color', text: 'Ink' }), ink),
      ),
    );
  }
  parts.push(
    range('Size', 'layer-scale', {
      min: 0.05, max: 4, step: 0.01, value: layer.scale,
      format: (v) => `${Math.round(v * 100)}%`,
      onInput: (value, finished) => slide(layer.id, { scale: value }, finished),
    }),
    range('Rotation', 'layer-rotation', {
      min: -180, max: 180, step: 1, value: layer.rotation,
      format: (v) => `${Math.round(v)}°`,
      onInput: (value, finished) => slide(layer.id, { rotation: value }, finished),
    }),
    stackButtons(layer),
  );
  const other = layer.area === 'back' ? 'front' : 'back';
  const actions = el('div', { class: 'controls-actions' });
  if (state.product?.print_areas.some((a) => a.name === other)) {
    actions.append(el('button', { class: 'btn btn-secondary btn-sm', type: 'button', id: 'layer-side', text: `Print on the ${other} instead`, on: { click: () => editor.update(layer.id, { area: other }) } }));
  }
  actions.append(el('button', { class: 'btn btn-danger btn-sm', type: 'button', id: 'layer-delete', text: 'Delete layer', on: { click: () => editor.remove(layer.id) } }));
  parts.push(actions);
  controls.replaceChildren(...parts);
  controls.hidden = false;
  document.body.classList.add('has-sheet');
  if (hadFocus) (controls.querySelector(`#${CSS.escape(hadFocus)}`) ?? done).focus({ preventScroll: true });
}

// Escape in the layer's panel goes back to the layer on the stage.
controls.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || !controls.dataset.layer) return;
  event.preventDefault();
  stageRoot.querySelector(`.layer[data-id="${CSS.escape(controls.dataset.layer)}"]`)?.focus();
});

// ---- add text, upload, undo ----------------------------------------------------------------

addTextForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = newText.value.trim();
  if (!text || !state.product) {
    newText.focus();
    return;
  }
  editor.addText(text);
  newText.value = '';
});

uploadInput.addEventListener('change', async () => {
  const file = uploadInput.files?.[0];
  uploadInput.value = '';
  if (!file || !state.product) return;
  if (file.size > MAX_UPLOAD_BYTES) {
    showError(new ApiError({ status: 413, code: 'too_large', message: 'That image is larger than 10 MB. Try a smaller one.' }), 'Image too large');
    return;
  }
  await flushSave().catch(() => {});
  const form = new FormData();
  form.append('image', file);
  form.append('product_id', state.product.id);
  form.append('color', state.color.name);
  if (state.design) form.append('design_id', state.design.design_id);
  setStatus('Uploading your image…', 'busy');
  await requestImageJob(form, {
    label: 'Placing your image…',
    failure: 'Your image was not added',
    done: () => chat.say('I placed your image on the design. Drag it, resize it, or ask me to change it.'),
  });
});

undoButton.addEventListener('click', () => editor.undo());
redoButton.addEventListener('click', () => editor.redo());
document.addEventListener('keydown', (event) => {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
  if (event.target.closest('input, textarea, select')) return;
  const key = event.key.toLowerCase();
  if (key === 'z' && !event.shiftKey) editor.undo();
  else if ((key === 'z' && event.shiftKey) || key === 'y') editor.redo();
  else return;
  event.preventDefault();
});

// ---- continue: the design becomes an item of the draft order --------------------------------

function startingSizes(product) {
  const quantity = firstBulkTier(product)?.min_quantity ?? 12;
  const size = product.sizes.includes('M') ? 'M' : product.sizes[Math.floor(product.sizes.length / 2)];
  return { [size]: quantity };
}

async function openDraft() {
  const orderId = currentOrder.get();
  if (!orderId) return null;
  try {
    const order = await getJSON(`/api/orders/${encodeURIComponent(orderId)}`);
    return order.status === 'draft' ? order : null;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

continueButton.addEventListener('click', async () => {
  if (continueButton.getAttribute('aria-busy') === 'true') return;
  continueButton.setAttribute('aria-busy', 'true');
  continueButton.textContent = 'Saving your design…';
  try {
    await flushSave();
    const design = state.design;
    const draft = await openDraft();
    const items = (draft?.items ?? []).map(({ product_id, design_id, color, sizes }) => ({ product_id, design_id, color, sizes }));
    const mine = items.findIndex((item) => item.design_id === design.design_id);
    const product = state.products.find((p) => p.id === design.product_id);
    if (mine >= 0) {
      const sizes = Object.fromEntries(Object.entries(items[mine].sizes).filter(([size]) => product.sizes.includes(size)));
      items[mine] = { product_id: design.product_id, design_id: design.design_id, color: design.color, sizes: Object.keys(sizes).length ? sizes : startingSizes(product) };
    } else {
      items.push({ product_id: design.product_id, design_id: design.design_id, color: design.color, sizes: startingSizes(product) });
    }
    const order = await postJSON('/api/orders/draft', { order_id: draft?.id, items });
    currentOrder.set(order.id);
    if (mine < 0) markNew(order.id, design.design_id);
    // The design is in the order now: a bare /studio starts the next one. Back comes here.
    studioState.clear();
    window.location.assign(`/quantity?order=${encodeURIComponent(order.id)}`);
  } catch (error) {
    showError(error, 'We could not add your design to an order');
    continueButton.textContent = continueLabel;
    continueButton.removeAttribute('aria-busy');
  }
});

// The quantities page treats a new item's starting quantity as a placeholder.
function markNew(orderId, designId) {
  try {
    sessionStorage.setItem(`auren.fresh.${orderId}.${designId}`, '1');
  } catch {
    // Without storage the first assistant message adds to the starting quantity instead.
  }
}

// ---- start ---------------------------------------------------------------------------------

/** /studio?product=tote&color=Natural: a new design of that product, made once. */
async function startFromProduct(productId, colorName) {
  chooseProduct(productId, colorName, { silent: true });
  state.wantedColor = state.color.name;
  state.ready = true;
  chat.say(`You picked the ${state.product.name} in ${state.color.name}. What should we print on it?`);
  setStatus('Starting your design…', 'busy');
  // A save of something added meanwhile waits for this one, and goes to the same design.
  saving = postJSON('/api/designs', { product_id: state.product.id, color: state.color.name, layers: [] });
  try {
    const design = await saving;
    if (state.dirty) {
      adopt(design.design_id);
      state.design = design;
      persist();
    } else {
      applyDesign(design, { fromSave: true });
    }
  } catch (error) {
    // The first edit creates the design instead.
    showError(error, 'Your design is not saved yet');
    setStatus('Not saved.', 'error');
  } finally {
    saving = null;
  }
}

/** /studio?design=<id>: the design as this browser last kept it, else as the server has it. */
async function openDesign(designId) {
  let record = designStore.get(designId);
  if (!record?.design) {
    try {
      record = { design: await getJSON(`/api/designs/${encodeURIComponent(designId)}`) };
    } catch {
      record = null; // not the caller's (another account), or gone
    }
  }
  state.ready = true;
  if (record?.design) {
    adopt(designId);
    restore(record);
    return;
  }
  chooseProduct(state.products[0].id, null, { silent: true });
  history.replaceState(history.state, '', '/studio');
  notice.className = 'notice notice-info notice-compact';
  notice.removeAttribute('role');
  notice.replaceChildren(el('div', {}, el('p', { class: 'notice-title', text: 'This design is not yours, or no longer exists' }), el('p', { class: 'notice-detail', text: 'Sign in with the account that made it, or start a new one here: the assistant can help.' })));
  notice.hidden = false;
}

async function start() {
  productSelect.replaceChildren(el('option', { text: 'Loading products…' }));
  try {
    const { products } = await loadCatalog();
    if (!products?.length) throw new ApiError({ status: 503, code: 'empty_catalog', message: 'No products are available right now.' });
    state.products = products;
  } catch (error) {
    showError(error, 'The products did not load');
    const retry = el('button', { class: 'btn btn-secondary btn-sm', type: 'button', text: 'Try again', on: { click: () => { hideNotice(); start(); } } });
    notice.append(retry);
    productSelect.replaceChildren(el('option', { text: 'Unavailable' }));
    return;
  }
  productSelect.replaceChildren(...state.products.map((p) => el('option', { value: p.id, text: p.name })));
  productSelect.disabled = false;

  const params = new URLSearchParams(window.location.search);
  const known = (id) => state.products.some((p) => p.id === id);
  const idea = ideaFromUrl(params);
  if (params.get('design')) {
    await openDesign(params.get('design'));
  } else if (idea && known(idea.product_id)) {
    studioState.clear();
    chooseProduct(idea.product_id, idea.color, { silent: true });
    state.ready = true;
    await startFromIdea(idea, null);
  } else if (params.get('product') && known(params.get('product'))) {
    if (params.has('new')) studioState.clear();
    await startFromProduct(params.get('product'), params.get('color'));
  } else {
    if (params.has('new')) {
      studioState.clear();
      history.replaceState(history.state, '', '/studio');
    }
    const saved = studioState.get();
    if (saved.design_id && designStore.get(saved.design_id)?.design) {
      adopt(saved.design_id);
      await openDesign(saved.design_id);
    } else {
      // A fresh design (nothing is saved until there is something to print), or the product
      // and conversation of one not made yet.
      chooseProduct(known(saved.product_id) ? saved.product_id : state.products[0].id, saved.color, { silent: true });
      state.wantedColor = saved.wanted_color ?? saved.color ?? null;
      state.conversationId = saved.conversation_id ?? null;
      chat.restore(saved.messages ?? []);
      state.ready = true;
    }
  }
  renderLayerList();
  // An image job still being made for this design (or for the new one) when the shopper left.
  const job = pendingImageJob.get();
  if (job && (job.design_id ?? null) === (state.design?.design_id ?? null)) followImageJob(job);
}

start();
