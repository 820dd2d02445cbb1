/** Tests build their LANs with the same code as `herald lab`. */
export { VirtualLan as TestLan } from '../../src/lab/netns.js';
