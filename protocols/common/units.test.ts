/** Every `*.unit.ts` test below this folder, in one tap process (scripts/run-units.ts). */
import { runUnits } from '../../scripts/run-units.js';

await runUnits(import.meta.url);
