// web3.js v4 WebSocketProvider through the proxy: a newBlockHeaders subscription and plain requests
// on the same socket. Auto-reconnect is off so that a lost connection shows instead of healing.
import { Web3, WebSocketProvider } from 'web3';

import { callCode, emit, guardProcess, hex, kAddress, kCallData, proxyUrl, report, requestLoop } from './common.mjs';

guardProcess();
const provider = new WebSocketProvider(proxyUrl(), {}, { autoReconnect: false });
provider.on('error', (error) => report('provider:error', error));
provider.on('disconnect', (error) => report('provider:disconnect', error));
const web3 = new Web3(provider);

const subscription = await web3.eth.subscribe('newBlockHeaders');
subscription.on('data', (header) =>
  emit({ event: 'block', source: 'newBlockHeaders', number: header.number, hash: header.hash }));
subscription.on('error', (error) => report('subscription', error));
emit({ event: 'ready' });

await requestLoop(async (state) => {
  state.step = 'getBlockNumber';
  const blockNumber = await web3.eth.getBlockNumber();
  state.step = 'getBlock';
  const block = await web3.eth.getBlock(blockNumber);
  state.step = 'getBalance';
  const balance = await web3.eth.getBalance(kAddress);
  state.step = 'call';
  const code = await callCode(() => web3.eth.call({ to: kAddress, data: kCallData }));
  return { blockNumber, blockHash: block?.hash ?? null, balance: hex(balance), callCode: code };
});
