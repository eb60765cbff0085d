// My orders: every order of the signed-in shopper, with its status.

import { renderMyOrders } from './my-orders.js';
import './site.js';

renderMyOrders(document.getElementById('my-orders'));
