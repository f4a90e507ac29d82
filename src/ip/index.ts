// Public surface of src/ip (README.md): the one module that parses and formats IP addresses and prefixes.
export * from './address.js';
export * from './prefix.js';
