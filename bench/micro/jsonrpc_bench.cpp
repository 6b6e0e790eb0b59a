// The HTTP path's per-request work before forwarding (http/el_handler.cpp): parse the body and
// check its shape. The body itself is forwarded verbatim, so this is all the JSON work it does.
#include <benchmark/benchmark.h>

#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"
#include "messages.hpp"

namespace {

namespace jsonrpc = vixy::jsonrpc;

void http_inspect(benchmark::State& state, const std::string& body) {
  for (auto _ : state) {
    auto document = jsonrpc::parse(body);
    auto shape = jsonrpc::inspect_request(*document);
    benchmark::DoNotOptimize(shape);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}

void BM_HttpParseInspect_BlockNumber(benchmark::State& state) { http_inspect(state, vixy::bench::block_number_request(1)); }
void BM_HttpParseInspect_EthCall4K(benchmark::State& state) { http_inspect(state, vixy::bench::eth_call_request(1)); }
void BM_HttpParseInspect_Batch10(benchmark::State& state) { http_inspect(state, vixy::bench::batch_request(10)); }

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

BENCHMARK(BM_HttpParseInspect_BlockNumber);
BENCHMARK(BM_HttpParseInspect_EthCall4K);
BENCHMARK(BM_HttpParseInspect_Batch10);
BENCHMARK(BM_RawMemberId_EthCall4K);
BENCHMARK(BM_RawElements_Batch10);
