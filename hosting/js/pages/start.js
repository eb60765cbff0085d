// The start page (catalog or custom): nothing of its own beyond what every page shares.

import '../lib/site.js';
