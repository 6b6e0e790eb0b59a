// The HTTP path's per-request work before forwarding (http/el_handler.cpp): check the body's
// shape from its text. The body itself is forwarded verbatim, so this is all the JSON work it does.
// BM_TreeParse_* is the baseline in the same run: building the parser's tree of the same body,
// which is what the check cost before it scanned the text.
#include <benchmark/benchmark.h>

#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"
#include "messages.hpp"

namespace {

namespace jsonrpc = vixy::jsonrpc;

void http_inspect(benchmark::State& state, const std::string& body) {
  for (auto _ : state) benchmark::DoNotOptimize(jsonrpc::inspect_request_body(body));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}

void tree_parse(benchmark::State& state, const std::string& body) {
  for (auto _ : state) benchmark::DoNotOptimize(jsonrpc::parse(body));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}

void BM_HttpInspect_BlockNumber(benchmark::State& state) { http_inspect(state, vixy::bench::block_number_request(1)); }
void BM_HttpInspect_EthCall4K(benchmark::State& state) { http_inspect(state, vixy::bench::eth_call_request(1)); }
void BM_HttpInspect_Batch10(benchmark::State& state) { http_inspect(state, vixy::bench::batch_request(10)); }
void BM_TreeParse_BlockNumber(benchmark::State& state) { tree_parse(state, vixy::bench::block_number_request(1)); }
void BM_TreeParse_EthCall4K(benchmark::State& state) { tree_parse(state, vixy::bench::eth_call_request(1)); }
void BM_TreeParse_Batch10(benchmark::State& state) { tree_parse(state, vixy::bench::batch_request(10)); }

// The byte-level id lookup the WebSocket core uses instead of re-serialising (jsonrpc/raw.hpp).
void BM_RawMemberId_EthCall4K(benchmark::State& state) {
  std::string body = vixy::bench::eth_call_request(1);
  for (auto _ : state) benchmark::DoNotOptimize(jsonrpc::raw::member(body, "id"));
}

void BM_RawElements_Batch10(benchmark::State& state) {
  std::string body = vixy::bench::batch_request(10);
  for (auto _ : state) benchmark::DoNotOptimize(jsonrpc::raw::elements(body));
}

}  // namespace

BENCHMARK(BM_HttpInspect_BlockNumber);
BENCHMARK(BM_HttpInspect_EthCall4K);
BENCHMARK(BM_HttpInspect_Batch10);
BENCHMARK(BM_TreeParse_BlockNumber);
BENCHMARK(BM_TreeParse_EthCall4K);
BENCHMARK(BM_TreeParse_Batch10);
BENCHMARK(BM_RawMemberId_EthCall4K);
BENCHMARK(BM_RawElements_Batch10);
