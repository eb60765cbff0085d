// Money arrives from the API as integer minor units (cents) plus an ISO currency code.

const formatters = new Map();

function formatter(currency, locale) {
  const key = `${locale ?? ''}|${currency}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency });
    formatters.set(key, format);
  }
  return format;
}

/** formatMoney(1550, 'usd') -> "$15.50"; respects currencies without minor units (JPY). */
export function formatMoney(minorUnits, currency, locale = undefined) {
  const format = formatter(currency.toUpperCase(), locale);
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(minorUnits / 10 ** digits);
}
