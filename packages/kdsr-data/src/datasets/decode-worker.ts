// Worker-thread entry: decodes samples for the loader. Messages in: {type: 'init', dataset} once,
// then {type: 'sample', id, index, patch}; out: {id, result} with the pixel buffers transferred.
import { parentPort } from 'worker_threads';
import { Dataset } from './dataset';
import { PatchSpec } from './patch';
import { SampleDecoder } from './sample-decoder';

type Message = { type: 'init'; dataset: Dataset } | { type: 'sample'; id: number; index: number; patch: PatchSpec | null };

let decoder: SampleDecoder | null = null;

parentPort!.on('message', (message: Message) => {
  if (message.type === 'init') {
    decoder = new SampleDecoder(message.dataset);
  } else {
    void decoder!.sample(message.index, message.patch).then((result) => {
      const transfer: ArrayBuffer[] = [];
      if (result.status === 'ok') {
        transfer.push(result.hr.data.buffer as ArrayBuffer);
        if (result.lr) transfer.push(result.lr.data.buffer as ArrayBuffer);
      }
      parentPort!.postMessage({ id: message.id, result }, transfer);
    });
  }
});
