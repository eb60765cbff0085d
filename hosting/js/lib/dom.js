// Build DOM from data without innerHTML, so API text is always text.

/**
 * el('a', {class: 'link', href: '/x'}, 'label', child) -> <a class="link" href="/x">label…</a>
 * Props: `class`, `text`, `dataset`, `on` ({event: handler}); anything else is an attribute
 * (true -> present, false/null/undefined -> omitted).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'on') for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}
