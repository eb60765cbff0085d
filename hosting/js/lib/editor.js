// The layer editor: a design's image and text layers on the product's print areas, moved,
// scaled and rotated with a pointer or the keyboard, with undo and redo.
//
// Geometry is the server's (common/designs.py), so what the shopper arranges here is what the
// mockup renderer prints: the template is TEMPLATE px square; a layer's x/y are its centre as
// fractions of the print area; an image's natural box is the largest box of its aspect ratio
// that fits the area, times `scale`; a text's em is `size` x area width x `scale`; rotation is
// clockwise degrees about the centre. A layer must stay inside its print area.

import { el } from './dom.js';
import { garmentFrame, sideImage, tintGarment } from './products.js';

const TEMPLATE = 1024;
const MIN_SCALE = 0.05;
const MAX_SCALE = 4;
const MIN_TEXT_SIZE = 0.03;
const HISTORY_LIMIT = 60;
const STEP = 0.01;
const BIG_STEP = 0.05;
const SCALE_STEP = 1.05;
const TURN = 5;
const BIG_TURN = 15;
// Stroke added on each glyph edge by the print's heavier weights, as a fraction of the em.
export const FONT_WEIGHTS = { Aileron: 0, 'Aileron Bold': 0.028, 'Aileron Black': 0.055 };
export const FONT_LABELS = { Aileron: 'Regular', 'Aileron Bold': 'Bold', 'Aileron Black': 'Heavy' };
// The DOM measures a text's line box, a little larger than its ink: keep a margin.
const SAFETY = 0.985;

const clone = (value) => JSON.parse(JSON.stringify(value));
const round = (value, places = 4) => Math.round(value * 10 ** places) / 10 ** places;

export function layerName(layer) {
  if (layer.type === 'text') return `Text “${layer.text}”`;
  return layer.label ? `Image: ${layer.label}` : 'Image';
}

/**
 * createEditor(root, {onCommit, onSelect, onHistory}) -> editor
 * onCommit(layers): the layers changed (a finished drag, a key press, an edit) and should be saved.
 * onSelect(layer|null), onHistory({canUndo, canRedo}) keep the page's controls in step.
 */
export function createEditor(root, { onCommit, onSelect, onHistory, announce }) {
  let product = null;
  let color = null;
  let side = 'front';
  let layers = [];
  let selected = null;
  let past = [];
  let future = [];
  let quietFocus = false; // focus given back to a layer without selecting it
  const aspects = new Map(); // image url -> natural width / height
  const nodes = new Map(); // layer id -> element

  const frame = el('div', { class: 'stage-frame' });
  const zone = el('div', { class: 'print-zone', role: 'group', 'aria-label': 'Print area' });
  const empty = el('p', { class: 'stage-empty', text: 'Your design appears here.' });
  root.replaceChildren(frame);

  function area(name = side) {
    return product?.print_areas.find((a) => a.name === name) ?? null;
  }

  function sideLabel(name) {
    return name === 'back' ? 'back' : 'front';
  }

  // ---- geometry ------------------------------------------------------------------------

  function naturalBox(layer, box) {
    if (layer.type === 'image') {
      const aspect = aspects.get(layer.url) ?? 1;
      return aspect >= box.width / box.height
        ? [box.width, box.width / aspect]
        : [box.height * aspect, box.height];
    }
    const node = nodes.get(layer.id);
    const text = node?.querySelector('.layer-text');
    if (!text || !zone.isConnected || !zone.offsetWidth) return null;
    // Measured at the current em: convert stage pixels back to template pixels.
    const perPx = box.width / zone.offsetWidth;
    return [text.offsetWidth * perPx, text.offsetHeight * perPx];
  }

  function size(layer, box) {
    if (layer.type === 'image') {
      const [w, h] = naturalBox(layer, box);
      return [w * layer.scale, h * layer.scale];
    }
    return naturalBox(layer, box);
  }

  /** The layer shrunk (never grown) and moved just enough to lie inside its print area. */
  function fit(layer) {
    const box = area(layer.area);
    if (!box) return layer;
    const measured = size(layer, box);
    if (!measured) return layer;
    let [w, h] = measured;
    const turn = (layer.rotation * Math.PI) / 180;
    const cos = Math.abs(Math.cos(turn));
    const sin = Math.abs(Math.sin(turn));
    let bw = w * cos + h * sin;
    let bh = w * sin + h * cos;
    const shrink = Math.min(1, (box.width * SAFETY) / bw, (box.height * SAFETY) / bh);
    const next = { ...layer };
    if (shrink < 1) {
      if (layer.type === 'text') next.scale = Math.max(MIN_TEXT_SIZE / layer.size, layer.scale * shrink);
      else next.scale = Math.max(MIN_SCALE, layer.scale * shrink);
      const ratio = next.scale / layer.scale;
      bw *= ratio;
      bh *= ratio;
    }
    const halfW = Math.min(0.5, bw / 2 / box.width);
    const halfH = Math.min(0.5, bh / 2 / box.height);
    next.x = round(Math.min(Math.max(layer.x, halfW), 1 - halfW));
    next.y = round(Math.min(Math.max(layer.y, halfH), 1 - halfH));
    next.scale = round(Math.min(MAX_SCALE, Math.max(MIN_SCALE, next.scale)));
    return next;
  }

  // ---- rendering -----------------------------------------------------------------------

  function focusedLayer() {
    return zone.contains(document.activeElement) ? document.activeElement.closest('.layer')?.dataset.id ?? null : null;
  }

  function renderFrame() {
    const focused = focusedLayer();
    frame.replaceChildren();
    if (!product) return;
    const box = area();
    const garment = garmentFrame(sideImage(product, side), `${product.name}${color ? ` in ${color.name}` : ''}, ${sideLabel(side)}`, { lazy: false });
    garment.classList.add('stage-garment');
    tintGarment(frame, color);
    frame.append(garment);
    if (box) {
      zone.style.setProperty('--area-x', String(box.x / TEMPLATE));
      zone.style.setProperty('--area-y', String(box.y / TEMPLATE));
      zone.style.setProperty('--area-w', String(box.width / TEMPLATE));
      zone.style.setProperty('--area-h', String(box.height / TEMPLATE));
      zone.setAttribute('aria-label', `Print area, ${sideLabel(side)}`);
      frame.append(zone);
    }
    renderLayers(focused);
  }

  function renderLayers(focused = focusedLayer()) {
    // Redrawing replaces the layer elements: the one that had focus gets it back (or, when it
    // is gone, the next layer), so undo, redo and a server update never drop keyboard focus.
    nodes.clear();
    const box = area();
    const shown = layers.filter((layer) => layer.area === side);
    zone.replaceChildren(...shown.map((layer) => layerNode(layer, box)));
    if (!shown.length) zone.append(empty);
    empty.textContent = layers.length ? `Nothing on the ${sideLabel(side)} yet.` : 'Your design appears here.';
    zone.classList.toggle('is-empty', !shown.length);
    if (focused) {
      const target = nodes.get(focused) ?? nodes.get(selected) ?? zone.querySelector('.layer');
      (target ?? sideButton())?.focus({ preventScroll: true });
    }
  }

  function sideButton() {
    return root.closest('.studio-stage')?.querySelector('[data-side][aria-checked="true"]') ?? null;
  }

  function place(node, layer, box) {
    node.style.setProperty('--x', String(layer.x));
    node.style.setProperty('--y', String(layer.y));
    node.style.setProperty('--rotation', `${layer.rotation}deg`);
    if (layer.type === 'image') {
      const aspect = aspects.get(layer.url) ?? 1;
      const [w, h] = aspect >= box.width / box.height ? [1, box.width / aspect / box.height] : [(box.height * aspect) / box.width, 1];
      node.style.setProperty('--w', String(w * layer.scale));
      node.style.setProperty('--h', String(h * layer.scale));
    } else {
      const em = layer.size * box.width * layer.scale;
      node.style.setProperty('--em', String(em));
      node.style.setProperty('--stroke', String(em * FONT_WEIGHTS[layer.font] * 2));
      node.style.setProperty('--ink', layer.color);
    }
    node.setAttribute('aria-label', `${layerName(layer)}, ${Math.round(layer.x * 100)}% across, ${Math.round(layer.y * 100)}% down, ${Math.round(layer.scale * 100)}% size, rotated ${Math.round(layer.rotation)}°`);
  }

  function layerNode(layer, box) {
    const node = el('div', {
      class: `layer layer-${layer.type}`,
      tabindex: '0',
      role: 'button',
      'aria-roledescription': 'layer',
      'aria-pressed': String(layer.id === selected),
      'aria-describedby': 'stage-help',
      dataset: { id: layer.id },
    });
    if (layer.type === 'image') {
      const image = el('img', { src: layer.url ?? '', alt: '', draggable: 'false', decoding: 'async' });
      image.addEventListener('load', () => {
        const known = aspects.has(layer.url);
        aspects.set(layer.url, image.naturalWidth / image.naturalHeight);
        if (!known) place(node, current(layer.id) ?? layer, box);
      }, { once: true });
      node.append(image);
    } else {
      node.append(el('span', { class: 'layer-text', text: layer.text }));
    }
    node.append(
      el('span', { class: 'handle handle-scale', dataset: { handle: 'scale' }, 'aria-hidden': 'true' }),
      el('span', { class: 'handle handle-rotate', dataset: { handle: 'rotate' }, 'aria-hidden': 'true' }),
    );
    place(node, layer, box);
    node.addEventListener('pointerdown', (event) => startDrag(event, layer.id));
    node.addEventListener('keydown', (event) => onKey(event, layer.id));
    node.addEventListener('focus', () => {
      if (!quietFocus) select(layer.id);
    });
    nodes.set(layer.id, node);
    return node;
  }

  function current(id) {
    return layers.find((layer) => layer.id === id) ?? null;
  }

  function refresh(id) {
    const layer = current(id);
    const node = nodes.get(id);
    if (layer && node) place(node, layer, area(layer.area));
  }

  // ---- history -------------------------------------------------------------------------

  function emitHistory() {
    onHistory?.({ canUndo: past.length > 0, canRedo: future.length > 0 });
  }

  function remember(before) {
    past.push(before);
    if (past.length > HISTORY_LIMIT) past.shift();
    future = [];
    emitHistory();
  }

  function commit(before) {
    if (JSON.stringify(before) === JSON.stringify(layers)) return;
    remember(before);
    onCommit(clone(layers));
  }

  function restore(snapshot) {
    layers = clone(snapshot);
    if (selected && !current(selected)) selected = null;
    const shownSide = selected ? current(selected).area : side;
    if (shownSide !== side) setSide(shownSide, { silent: false });
    else renderLayers();
    onSelect?.(selected ? current(selected) : null);
    emitHistory();
    onCommit(clone(layers));
  }

  // ---- selection and changes -----------------------------------------------------------

  function select(id, { focus = false } = {}) {
    if (selected === id) {
      if (focus) nodes.get(id)?.focus();
      return;
    }
    selected = id;
    for (const [layerId, node] of nodes) node.setAttribute('aria-pressed', String(layerId === id));
    const layer = id ? current(id) : null;
    if (layer && layer.area !== side) setSide(layer.area);
    if (focus) nodes.get(id)?.focus();
    onSelect?.(layer);
  }

  /** Change one layer (kept inside its area), as one undoable step unless `record` is false. */
  function update(id, patch, { record = true } = {}) {
    const index = layers.findIndex((layer) => layer.id === id);
    if (index < 0) return;
    const before = clone(layers);
    const moved = patch.area && patch.area !== layers[index].area;
    layers[index] = { ...layers[index], ...patch };
    if (moved) {
      renderLayers();
      setSide(layers[index].area);
    }
    // Text is measured from the DOM, so draw first, then fit, then draw the fitted layer.
    refresh(id);
    layers[index] = fit(layers[index]);
    refresh(id);
    if (record) commit(before);
    onSelect?.(layers[index]);
  }

  function remove(id) {
    const layer = current(id);
    if (!layer) return;
    const before = clone(layers);
    layers = layers.filter((l) => l.id !== id);
    selected = null;
    renderLayers();
    commit(before);
    onSelect?.(null);
    announce?.(`${layerName(layer)} removed.`);
    (zone.querySelector('.layer') ?? sideButton())?.focus();
  }

  /**
   * Move a layer one step up (`1`, in front of the next layer on its side) or down (`-1`) in
   * the stacking order; prints paint the layers in this order. Says which layer it now covers
   * or sits behind.
   */
  function restack(id, direction) {
    const layer = current(id);
    if (!layer) return;
    const sameSide = layers.filter((l) => l.area === layer.area);
    const at = sameSide.findIndex((l) => l.id === id);
    const other = sameSide[at + direction];
    if (!other) return;
    const before = clone(layers);
    const from = layers.findIndex((l) => l.id === id);
    const to = layers.findIndex((l) => l.id === other.id);
    layers.splice(from, 1);
    layers.splice(to, 0, layer);
    renderLayers();
    commit(before);
    onSelect?.(current(id));
    announce?.(direction > 0 ? `${layerName(layer)} is now in front of ${layerName(other)}.` : `${layerName(layer)} is now behind ${layerName(other)}.`);
  }

  /** Where the layer is in the stacking order of its side: {index, count} (0 = at the back). */
  function stacking(id) {
    const layer = current(id);
    if (!layer) return null;
    const sameSide = layers.filter((l) => l.area === layer.area);
    return { index: sameSide.findIndex((l) => l.id === id), count: sameSide.length };
  }

  function newId(prefix) {
    let n = 1;
    while (current(`${prefix}-${n}`)) n += 1;
    return `${prefix}-${n}`;
  }

  function addText(text) {
    const before = clone(layers);
    const ink = color && luma(color.hex) > 0.55 ? '#151515' : '#ffffff';
    const layer = { id: newId('mytext'), type: 'text', area: side, x: 0.5, y: 0.5, scale: 1, rotation: 0, text, font: 'Aileron Bold', size: 0.12, color: ink };
    layers.push(layer);
    renderLayers();
    const index = layers.length - 1;
    layers[index] = fit(layers[index]);
    refresh(layer.id);
    commit(before);
    select(layer.id, { focus: true });
    announce?.(`${layerName(layer)} added to the ${sideLabel(side)}.`);
    return layer;
  }

  // ---- keyboard ------------------------------------------------------------------------

  function onKey(event, id) {
    const layer = current(id);
    if (!layer) return;
    const step = event.shiftKey ? BIG_STEP : STEP;
    const turn = event.shiftKey ? BIG_TURN : TURN;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    let patch = null;
    if (moves[event.key]) {
      const [dx, dy] = moves[event.key];
      patch = { x: layer.x + dx, y: layer.y + dy };
    } else if (event.key === '+' || event.key === '=') {
      patch = { scale: Math.min(MAX_SCALE, layer.scale * SCALE_STEP) };
    } else if (event.key === '-' || event.key === '_') {
      patch = { scale: Math.max(MIN_SCALE, layer.scale / SCALE_STEP) };
    } else if (event.key === ']' || event.key === '[') {
      const rotation = layer.rotation + (event.key === ']' ? turn : -turn);
      patch = { rotation: ((((rotation + 180) % 360) + 360) % 360) - 180 };
    } else if (event.key === 'Delete' || event.key === 'Backspace') {
      event.preventDefault();
      remove(id);
      return;
    } else if (event.key === 'Escape') {
      // Deselect, but keep focus where it is: the next Tab goes on from this layer.
      event.preventDefault();
      select(null);
      return;
    } else {
      return;
    }
    event.preventDefault();
    update(id, patch);
  }

  function node(id) {
    return nodes.get(id) ?? null;
  }

  // ---- pointer -------------------------------------------------------------------------

  function startDrag(event, id) {
    if (event.button !== 0) return;
    const layer = current(id);
    const target = node(id);
    if (!layer || !target) return;
    event.preventDefault();
    select(id);
    target.focus({ preventScroll: true });
    const handle = event.target.closest('[data-handle]')?.dataset.handle ?? 'move';
    const rect = zone.getBoundingClientRect();
    const before = clone(layers);
    const start = { x: event.clientX, y: event.clientY, layer: { ...layer } };
    const centre = { x: rect.left + layer.x * rect.width, y: rect.top + layer.y * rect.height };
    const startDistance = Math.hypot(start.x - centre.x, start.y - centre.y) || 1;
    const startAngle = Math.atan2(start.y - centre.y, start.x - centre.x);
    target.setPointerCapture(event.pointerId);
    target.classList.add('is-dragging');

    function move(moveEvent) {
      let patch;
      if (handle === 'scale') {
        const distance = Math.hypot(moveEvent.clientX - centre.x, moveEvent.clientY - centre.y);
        patch = { scale: Math.min(MAX_SCALE, Math.max(MIN_SCALE, start.layer.scale * (distance / startDistance))) };
      } else if (handle === 'rotate') {
        const angle = Math.atan2(moveEvent.clientY - centre.y, moveEvent.clientX - centre.x);
        let rotation = start.layer.rotation + ((angle - startAngle) * 180) / Math.PI;
        rotation = ((((rotation + 180) % 360) + 360) % 360) - 180;
        if (moveEvent.shiftKey) rotation = Math.round(rotation / BIG_TURN) * BIG_TURN;
        patch = { rotation: round(rotation, 1) };
      } else {
        patch = {
          x: start.layer.x + (moveEvent.clientX - start.x) / rect.width,
          y: start.layer.y + (moveEvent.clientY - start.y) / rect.height,
        };
      }
      update(id, patch, { record: false });
    }

    function end() {
      target.removeEventListener('pointermove', move);
      target.removeEventListener('pointerup', end);
      target.removeEventListener('pointercancel', end);
      target.classList.remove('is-dragging');
      commit(before);
    }

    target.addEventListener('pointermove', move);
    target.addEventListener('pointerup', end);
    target.addEventListener('pointercancel', end);
  }

  zone.addEventListener('pointerdown', (event) => {
    if (event.target === zone) select(null);
  });

  // ---- the page's view of the editor ---------------------------------------------------

  function setSide(name, { silent = false } = {}) {
    side = name;
    renderFrame();
    if (!silent) root.dispatchEvent(new CustomEvent('sidechange', { detail: side }));
  }

  return {
    get layers() {
      return clone(layers);
    },
    get side() {
      return side;
    },
    get selected() {
      return selected ? current(selected) : null;
    },
    setProduct(next, nextColor) {
      product = next;
      color = nextColor;
      if (!area(side)) side = next.print_areas[0]?.name ?? 'front';
      renderFrame();
    },
    setColor(nextColor) {
      color = nextColor;
      tintGarment(frame, color);
      const image = frame.querySelector('.stage-garment img');
      if (image && product) image.alt = `${product.name} in ${color.name}, ${sideLabel(side)}`;
    },
    setSide,
    /** Layers from the server: the editor's new state, one undoable step when `record`. */
    setLayers(next, { record = true } = {}) {
      const before = clone(layers);
      layers = clone(next);
      if (selected && !current(selected)) selected = null;
      renderLayers();
      if (record && JSON.stringify(before) !== JSON.stringify(layers)) remember(before);
      onSelect?.(selected ? current(selected) : null);
    },
    select,
    update,
    /** For a change made in several updates (a slider): the state before, then commit it. */
    snapshot: () => clone(layers),
    commitFrom: (before) => commit(before),
    remove,
    restack,
    stacking,
    addText,
    undo() {
      if (!past.length) return;
      future.push(clone(layers));
      restore(past.pop());
    },
    redo() {
      if (!future.length) return;
      past.push(clone(layers));
      restore(future.pop());
    },
    /** Focus the layer's element; it is selected too unless `select` is false. */
    focusLayer(id, { select: selecting = true } = {}) {
      if (selecting) {
        select(id, { focus: true });
        return;
      }
      quietFocus = true;
      try {
        nodes.get(id)?.focus();
      } finally {
        quietFocus = false;
      }
    },
  };
}

function luma(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return (0.299 * r + 0.587 * g + 0.114 * b) / 255;
}
