// Page 3b, the design studio: the design assistant (chat), the live mockup with its layer
// editor, the product and color, and the hand-over to the quantities page.
//
// A design exists on the server from the first moment there is something to print: the chat's
// brief is turned into artwork and mockups by POST /api/generate-image, hand edits are saved by
// POST /api/designs, and later chat messages change the design on the server directly.

import { ApiError, api, describeError, getJSON, postJSON } from '../lib/api.js';
import { createChat } from '../lib/chat.js';
import { el } from '../lib/dom.js';
import { FONT_LABELS, createEditor, layerName } from '../lib/editor.js';
import { findColor, firstBulkTier, loadCatalog, swatches } from '../lib/products.js';
import { currentOrder, designPreviews, studioState } from '../lib/store.js';
import '../lib/site.js';

const SAVE_DELAY_MS = 700;
const COLOR_DELAY_MS = 350;
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

const studioRoot = document.querySelector('.studio');
const stageRoot = document.getElementById('stage');
const productSelect = document.getElementById('product-select');
const swatchRoot = document.getElementById('color-swatches');
const productLine = document.getElementById('studio-product');
const layerList = document.getElementById('layer-list');
const layersEmpty = document.getElementById('layers-empty');
const controls = document.getElementById('layer-controls');
const saveStatus = document.getElementById('save-status');
const proof = document.getElementById('proof');
const proofFront = document.getElementById('proof-front');
const proofBack = document.getElementById('proof-back');
const notice = document.getElementById('studio-notice');
const continueButton = document.getElementById('continue');
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
  design: null, // the server's last DesignOut
  conversationId: null,
  dirty: false, // layers changed here since the last save
};
let saveTimer = 0;
let saving = null;
let colorTimer = 0;

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
});

async function sendToAssistant(message) {
  await flushSave();
  const answer = await postJSON('/api/chat', {
    conversation_id: state.conversationId ?? undefined,
    design_id: state.design?.design_id ?? undefined,
    message,
  });
  state.conversationId = answer.conversation_id;
  persist();
  if (answer.design) {
    applyDesign(answer.design);
  } else if (!state.design && !isEmpty(answer.brief)) {
    await createFromBrief(answer.brief);
  } else if (answer.brief?.product_id && !state.design) {
    chooseProduct(answer.brief.product_id, answer.brief.color);
  }
  return answer.reply;
}

function isEmpty(brief) {
  return !brief || (!brief.image && !(brief.texts?.length));
}

/** The first design of the conversation: its brief on the product it names (or the one chosen). */
async function createFromBrief(brief) {
  const product = state.products.find((p) => p.id === brief.product_id) ?? state.product;
  const color = (brief.color && findColor(product, brief.color)) || (product === state.product ? state.color : product.colors[0]);
  chooseProduct(product.id, color.name);
  setStatus('Creating your design…', 'busy');
  const design = await postJSON('/api/generate-image', {
    prompt: brief.image?.prompt ?? '',
    product_id: product.id,
    color: color.name,
    brief: { ...brief, product_id: product.id, color: color.name },
  }, { timeoutMs: 60000 });
  applyDesign(design);
}

// ---- the design ----------------------------------------------------------------------------

/** Show a design the server made or saved; its layers become the editor's (one undo step). */
function applyDesign(design, { fromSave = false } = {}) {
  state.design = design;
  designPreviews.remember(design);
  chooseProduct(design.product_id, design.color, { silent: true });
  if (!fromSave) {
    editor.setLayers(design.layers);
    // Show the side the design is on when the one in view is empty.
    const sides = new Set(design.layers.map((layer) => layer.area));
    if (sides.size && !sides.has(editor.side)) editor.setSide([...sides][0]);
  } else {
    mergeUrls(design.layers);
  }
  showProof(design);
  persist();
  renderLayerList();
  continueButton.disabled = false;
  studioRoot.classList.add('has-design');
  setStatus(design.warnings?.length ? 'Saved. An image may print blurry at its size.' : 'Saved.', 'saved');
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
  saveTimer = setTimeout(() => save(), SAVE_DELAY_MS);
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

function persist() {
  studioState.set({
    product_id: state.product?.id ?? null,
    color: state.color?.name ?? null,
    conversation_id: state.conversationId,
    design: state.design ? { ...state.design, layers: editor.layers } : null,
    dirty: state.dirty,
  });
}

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
  if (!silent) persist();
}

function renderSwatches() {
  const product = state.product;
  swatchRoot.replaceChildren(
    swatches(product, state.color, (color) => {
      state.color = color;
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
  try {
    const design = await postJSON('/api/generate-image', {
      product_id: state.product.id,
      color: state.color.name,
      design_id: state.design.design_id,
      brief: { ...state.design.brief, product_id: state.product.id, color: state.color.name },
    }, { timeoutMs: 60000 });
    applyDesign(design);
    hideNotice();
  } catch (error) {
    showError(error, 'We could not change the product');
    setStatus('Not saved.', 'error');
  }
}

productSelect.addEventListener('change', () => {
  const product = state.products.find((p) => p.id === productSelect.value);
  const color = findColor(product, state.color?.name) ?? product.colors[0];
  chooseProduct(product.id, color.name);
  recolor();
});

function renderSideSwitch() {
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

// ---- layers panel --------------------------------------------------------------------------

function renderLayerList() {
  const layers = editor.layers;
  const selected = editor.selected?.id ?? null;
  // Print-quality warnings of the last saved design, by layer (an upload printed under 150 DPI).
  const warnings = new Map((state.design?.warnings ?? []).map((warning) => [warning.layer, warning]));
  layersEmpty.hidden = layers.length > 0;
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

function renderControls(layer) {
  if (!layer) {
    controls.hidden = true;
    controls.replaceChildren();
    return;
  }
  // Keep typing undisturbed: while the text box has focus, only the numbers follow the layer.
  if (controls.dataset.layer === layer.id && controls.contains(document.activeElement)) {
    for (const [name, format] of [['scale', (v) => `${Math.round(v * 100)}%`], ['rotation', (v) => `${Math.round(v)}°`]]) {
      const input = controls.querySelector(`#layer-${name}`);
      if (input && document.activeElement !== input) {
        input.value = layer[name];
        input.closest('.field').querySelector('output').textContent = format(layer[name]);
      }
    }
    return;
  }
  controls.dataset.layer = layer.id;
  const parts = [el('p', { class: 'controls-title', text: layerName(layer) })];
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
      onInput: (value, done) => slide(layer.id, { scale: value }, done),
    }),
    range('Rotation', 'layer-rotation', {
      min: -180, max: 180, step: 1, value: layer.rotation,
      format: (v) => `${Math.round(v)}°`,
      onInput: (value, done) => slide(layer.id, { rotation: value }, done),
    }),
  );
  const other = layer.area === 'back' ? 'front' : 'back';
  const actions = el('div', { class: 'controls-actions' });
  if (state.product.print_areas.some((a) => a.name === other)) {
    actions.append(el('button', { class: 'btn btn-secondary btn-sm', type: 'button', text: `Move to ${other}`, on: { click: () => editor.update(layer.id, { area: other }) } }));
  }
  actions.append(el('button', { class: 'btn btn-danger btn-sm', type: 'button', text: 'Delete layer', on: { click: () => editor.remove(layer.id) } }));
  parts.push(actions);
  controls.replaceChildren(...parts);
  controls.hidden = false;
}

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
  try {
    applyDesign(await api('/api/generate-image', { method: 'POST', body: form, timeoutMs: 60000 }));
    hideNotice();
    chat.say('I placed your image on the design. Drag it, resize it, or ask me to change it.');
  } catch (error) {
    showError(error, 'Your image was not added');
    setStatus('Not saved.', 'error');
  }
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
  const label = continueButton.textContent;
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
    studioState.clear();
    window.location.assign(`/quantity?order=${encodeURIComponent(order.id)}`);
  } catch (error) {
    showError(error, 'We could not add your design to an order');
    continueButton.textContent = label;
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
  const saved = studioState.get();
  const fromCatalog = params.get('product');
  if (fromCatalog && state.products.some((p) => p.id === fromCatalog)) {
    if (saved.product_id !== fromCatalog || saved.design) studioState.clear();
    chooseProduct(fromCatalog, params.get('color'));
    chat.say(`You picked the ${state.product.name} in ${state.color.name}. What should we print on it?`);
  } else if (saved.product_id && state.products.some((p) => p.id === saved.product_id)) {
    state.conversationId = saved.conversation_id ?? null;
    chooseProduct(saved.product_id, saved.color);
    if (saved.design) {
      state.design = saved.design;
      editor.setLayers(saved.design.layers, { record: false });
      showProof(saved.design);
      continueButton.disabled = false;
      studioRoot.classList.add('has-design');
      state.dirty = Boolean(saved.dirty);
      if (state.dirty) scheduleSave();
      else setStatus('Saved.', 'saved');
      chat.say('Welcome back: your design is as you left it.');
    }
  } else {
    chooseProduct(state.products[0].id, null);
  }
  renderLayerList();
}

start();
