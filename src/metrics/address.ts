/** The listen-address parser is shared by every flag that takes one. */
export { parseHostPort } from '../util/host-port.js';
