// The compat shim must run before @kubernetes/client-node (and its undici) is evaluated.
import './node-compat.js';

export * from '@kubernetes/client-node';
