// Where the ingot checkout (or installed package) is, seen from this module: src/lab/ when run through tsx,
// dist/lab/ when built. Both are two levels below the package root, which holds bin/ingot.
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const INGOT_BIN = fileURLToPath(new URL('../../bin/ingot', import.meta.url));
