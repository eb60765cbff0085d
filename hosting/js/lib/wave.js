// The hero's fluid background: layered sine + gradient-noise waves painted on a canvas.
// It animates only while it can be seen (tab visible, canvas on screen) and draws a single
// still frame for people who prefer reduced motion.

const MAX_PIXEL_RATIO = 2;
const STEP_CSS_PX = 8;
const STILL_TIME = 14;
const MAX_FRAME_GAP = 0.05;

// Brand palette, back to front. `base` and `amplitude` are fractions of the canvas height.
const LAYERS = [
  { color: [139, 125, 255], alpha: 0.42, base: 0.56, amplitude: 0.1, length: 1.3, speed: 0.07, seed: 1 },
  { color: [226, 92, 168], alpha: 0.32, base: 0.66, amplitude: 0.09, length: 0.9, speed: -0.09, seed: 2 },
  { color: [255, 122, 89], alpha: 0.34, base: 0.75, amplitude: 0.07, length: 1.1, speed: 0.11, seed: 3 },
  { color: [72, 104, 240], alpha: 0.3, base: 0.83, amplitude: 0.06, length: 0.75, speed: -0.13, seed: 4 },
  { color: [91, 78, 230], alpha: 0.42, base: 0.91, amplitude: 0.05, length: 1.6, speed: 0.08, seed: 5 },
];

// 1-D gradient noise: smooth, repeatable, and cheap enough to sample every few pixels.
const GRADIENTS = Array.from({ length: 256 }, (_, i) => (Math.sin(i * 12.9898 + 78.233) * 43758.5453) % 1);

function noise(x) {
  const i = Math.floor(x);
  const f = x - i;
  const a = GRADIENTS[i & 255] * f;
  const b = GRADIENTS[(i + 1) & 255] * (f - 1);
  const fade = f * f * f * (f * (f * 6 - 15) + 10);
  return (a + (b - a) * fade) * 2;
}

function waveY(layer, u, t) {
  const phase = layer.seed * 1.7;
  const k = (Math.PI * 2) / layer.length;
  return (
    Math.sin(u * k + t * layer.speed * 6 + phase) * 0.55 +
    Math.sin(u * k * 2.3 - t * layer.speed * 4 + phase * 2) * 0.2 +
    noise(u * 2.5 + t * Math.abs(layer.speed) * 3 + layer.seed * 40) * 0.6
  );
}

/**
 * createWave(canvas) -> {start, stop}. `start` paints and, motion allowed, animates;
 * `stop` cancels the animation and detaches every observer.
 */
export function createWave(canvas) {
  const context = canvas.getContext('2d');
  const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');
  let width = 0;
  let height = 0;
  let ratio = 1;
  let running = false;
  let onScreen = true;
  let frame = 0;
  let time = STILL_TIME;
  let lastNow = null;
  let resolutionQuery = null;

  function draw() {
    if (!width || !height) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const unit = Math.max(width, 640);
    for (const layer of LAYERS) {
      const [r, g, b] = layer.color;
      const crest = (layer.base - layer.amplitude * 1.6) * height;
      const fill = context.createLinearGradient(0, crest, 0, crest + height * 0.4);
      fill.addColorStop(0, `rgba(${r},${g},${b},${layer.alpha})`);
      fill.addColorStop(1, `rgba(${r},${g},${b},0)`);
      context.beginPath();
      context.moveTo(0, height);
      for (let x = 0; x <= width + STEP_CSS_PX; x += STEP_CSS_PX) {
        const y = (layer.base + waveY(layer, x / unit, time) * layer.amplitude) * height;
        context.lineTo(x, y);
      }
      context.lineTo(width, height);
      context.closePath();
      context.fillStyle = fill;
      context.fill();
    }
  }

  function animating() {
    return running && onScreen && !document.hidden && !reducedMotion.matches;
  }

  function tick(now) {
    frame = 0;
    if (!animating()) return;
    if (lastNow !== null) time += Math.min((now - lastNow) / 1000, MAX_FRAME_GAP);
    lastNow = now;
    draw();
    frame = requestAnimationFrame(tick);
  }

  function update() {
    if (animating()) {
      if (!frame) frame = requestAnimationFrame(tick);
      return;
    }
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    lastNow = null;
    if (running && reducedMotion.matches) {
      time = STILL_TIME;
      draw();
    }
  }

  function resize() {
    const box = canvas.getBoundingClientRect();
    ratio = Math.min(window.devicePixelRatio || 1, MAX_PIXEL_RATIO);
    width = box.width;
    height = box.height;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    draw();
  }

  // A window moved to a screen with another pixel density keeps its CSS size: watch for it.
  function watchResolution() {
    resolutionQuery?.removeEventListener('change', onResolutionChange);
    resolutionQuery = window.matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
    resolutionQuery.addEventListener('change', onResolutionChange);
  }

  function onResolutionChange() {
    resize();
    watchResolution();
  }

  const resizeObserver = new ResizeObserver(resize);
  const visibilityObserver = new IntersectionObserver((entries) => {
    onScreen = entries[entries.length - 1].isIntersecting;
    update();
  });

  return {
    start() {
      if (running) return;
      running = true;
      resizeObserver.observe(canvas);
      visibilityObserver.observe(canvas);
      document.addEventListener('visibilitychange', update);
      reducedMotion.addEventListener('change', update);
      watchResolution();
      resize();
      update();
    },
    stop() {
      running = false;
      update();
      resizeObserver.disconnect();
      visibilityObserver.disconnect();
      document.removeEventListener('visibilitychange', update);
      reducedMotion.removeEventListener('change', update);
      resolutionQuery?.removeEventListener('change', onResolutionChange);
      resolutionQuery = null;
    },
  };
}
