// My orders: every order of the signed-in shopper, with its status.

import { renderMyOrders } from '../lib/my-orders.js';
import '../lib/site.js';

renderMyOrders(document.getElementById('my-orders'));
