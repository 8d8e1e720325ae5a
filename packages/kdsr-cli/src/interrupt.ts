// While outputs are being written, Ctrl-C (SIGINT) or SIGTERM removes their temporary files before
// the process exits with 130 / 143, as it would have without a handler; no partial file is left.
import { removeTemporaryFiles } from '@kdsr/cuda';

export async function removingTemporariesOnSignal<T>(work: () => Promise<T>): Promise<T> {
  const onSignal = (signal: NodeJS.Signals) => {
    removeTemporaryFiles();
    process.exit(signal === 'SIGTERM' ? 143 : 130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
