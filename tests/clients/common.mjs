// What the three library scripts share: the JSON-lines protocol on stdout that
// tests/integration/client_libraries_test.cpp reads, and the request round every library repeats.
// The scripts only report; the C++ test decides what passes.
//
// Lines:  {"event":"ready"}
//         {"event":"block","source":S,"number":N[,"hash":H]}   one per notification, per subscriber S
//         {"event":"requests","blockNumber":N,"blockHash":H,"balance":"0x..","callCode":C}
//         {"event":"error","where":W,"message":M}              anything the library reported as wrong

export const kAddress = '0x1111111111111111111111111111111111111111';
// balanceOf(kAddress): the fake node has no eth_call, so its answer is a JSON-RPC error (-32601)
// that must travel back to the library unchanged.
export const kCallData = '0x70a08231' + kAddress.slice(2).padStart(64, '0');

export function emit(line) {
  process.stdout.write(JSON.stringify(line, (_, v) => (typeof v === 'bigint' ? Number(v) : v)) + '\n');
}

export function report(where, error) {
  emit({ event: 'error', where, message: String(error?.stack ?? error?.message ?? error) });
}

// The JSON-RPC error code the node answered with, wherever the library wrapped it; null if none.
export function rpcCode(error, depth = 0) {
  if (error == null || typeof error !== 'object' || depth > 8) return null;
  if (typeof error.code === 'number' && error.code <= -32000 && error.code >= -32768) return error.code;
  for (const key of ['error', 'info', 'cause', 'innerError', 'data']) {
    const code = rpcCode(error[key], depth + 1);
    if (code !== null) return code;
  }
  return null;
}

export function hex(value) {
  return '0x' + BigInt(value).toString(16);
}

// Whatever escapes the library's own error reporting is a failure too.
export function guardProcess() {
  process.on('unhandledRejection', (error) => report('unhandledRejection', error));
  process.on('uncaughtException', (error) => report('uncaughtException', error));
  process.on('SIGTERM', () => process.exit(0));
}

// Runs `round` back to back (with a short pause) for as long as the process lives. A round returns
// the fields of one "requests" line; a throw becomes an error line naming the step.
export async function requestLoop(round) {
  for (;;) {
    const state = { step: 'start' };
    try {
      emit({ event: 'requests', ...(await round(state)) });
    } catch (error) {
      report(`request:${state.step}`, error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Runs `call` expecting the node's JSON-RPC error; returns its code (or throws what is unexpected).
export async function callCode(call) {
  try {
    await call();
  } catch (error) {
    const code = rpcCode(error);
    if (code !== null) return code;
    throw error;
  }
  return 0;  // a result where the fake node has none: the C++ side reports it
}

export function proxyUrl() {
  const url = process.argv[2];
  if (!url || !url.startsWith('ws')) {
    process.stderr.write('usage: node <script> ws://HOST:PORT/el/ws\n');
    process.exit(2);
  }
  return url;
}
