// viem's webSocket transport through the proxy: watchBlocks and watchBlockNumber subscribed with
// poll: false (two newHeads subscriptions on one socket), keep-alive pings (id null) every 250 ms,
// and plain requests on the same socket. Reconnect and retries are off so that any loss shows.
import { createPublicClient, webSocket } from 'viem';

import { callCode, emit, guardProcess, hex, kAddress, kCallData, proxyUrl, report, requestLoop } from './common.mjs';

guardProcess();
const client = createPublicClient({
  transport: webSocket(proxyUrl(), { keepAlive: { interval: 250 }, reconnect: false, retryCount: 0 }),
});

client.watchBlocks({
  poll: false,
  onBlock: (block) => emit({ event: 'block', source: 'watchBlocks', number: block.number, hash: block.hash }),
  onError: (error) => report('watchBlocks', error),
});
client.watchBlockNumber({
  poll: false,
  onBlockNumber: (number) => emit({ event: 'block', source: 'watchBlockNumber', number }),
  onError: (error) => report('watchBlockNumber', error),
});
const { socket } = await client.transport.getRpcClient();
socket.addEventListener('close', (event) => report('websocket:close', `${event.code} ${event.reason}`));
socket.addEventListener('error', (event) => report('websocket:error', event.message ?? 'error'));
emit({ event: 'ready' });

await requestLoop(async (state) => {
  state.step = 'getBlockNumber';
  const blockNumber = await client.getBlockNumber({ cacheTime: 0 });
  state.step = 'getBlock';
  const block = await client.getBlock({ blockNumber });
  state.step = 'getBalance';
  const balance = await client.getBalance({ address: kAddress });
  state.step = 'call';
  const code = await callCode(() => client.call({ to: kAddress, data: kCallData }));
  return { blockNumber, blockHash: block.hash, balance: hex(balance), callCode: code };
});
