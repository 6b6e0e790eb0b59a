// ethers v6 WebSocketProvider through the proxy: `block` events (an eth_subscribe newHeads under the
// hood) and plain requests on the same socket. See common.mjs for the output protocol.
import { WebSocketProvider } from 'ethers';

import { callCode, emit, guardProcess, hex, kAddress, kCallData, proxyUrl, report, requestLoop } from './common.mjs';

guardProcess();
const provider = new WebSocketProvider(proxyUrl());
provider.websocket.on?.('close', (code, reason) => report('websocket:close', `${code} ${reason}`));
provider.websocket.on?.('error', (error) => report('websocket:error', error));
provider.on('error', (error) => report('provider:error', error));

await provider.on('block', (number) => emit({ event: 'block', source: 'block', number }));
emit({ event: 'ready' });

await requestLoop(async (state) => {
  state.step = 'getBlockNumber';
  const blockNumber = await provider.getBlockNumber();
  state.step = 'getBlock';
  const block = await provider.getBlock(blockNumber);
  state.step = 'getBalance';
  const balance = await provider.getBalance(kAddress);
  state.step = 'call';
  const code = await callCode(() => provider.call({ to: kAddress, data: kCallData }));
  return { blockNumber, blockHash: block?.hash ?? null, balance: hex(balance), callCode: code };
});
