#pragma once
// The labelled metric children every WebSocket session updates, looked up once for all sessions:
// a lookup by label values takes the family's lock and builds its key, which per message (and per
// session event) costs more than the update itself.

#include <array>

#include "observability/proxy_metrics.hpp"
#include "ws/backlog.hpp"
#include "ws/gapless.hpp"

namespace vixy::ws {

struct SessionMetrics {
  explicit SessionMetrics(observability::ProxyMetrics& metrics)
      : all(metrics),
        to_client(metrics.ws_messages_total.with({"upstream_to_client"})),
        to_upstream(metrics.ws_messages_total.with({"client_to_upstream"})),
        connect_ok(metrics.ws_reconnection_attempts_total.with({"success"})),
        connect_failed(metrics.ws_reconnection_attempts_total.with({"failure"})),
        closed_write_timeout(metrics.ws_slow_clients_closed_total.with({"write_timeout"})),
        closed_backlog(metrics.ws_slow_clients_closed_total.with({to_string(Overflow::backlog)})),
        closed_process_buffer(metrics.ws_slow_clients_closed_total.with({to_string(Overflow::process_buffer)})) {
    for (std::size_t kind = 0; kind < gapless::kCountedKinds; ++kind) {
      const char* label = gapless::kind_label(static_cast<gapless::Kind>(kind));
      backfilled[kind] = &metrics.ws_backfilled_total.with({label});
      duplicates_dropped[kind] = &metrics.ws_duplicates_dropped_total.with({label});
      unfilled_gaps[kind] = &metrics.ws_unfilled_gaps_total.with({label});
    }
  }

  // A client closed for not reading, by why.
  observability::Counter& closed_for(Overflow overflow) {
    return overflow == Overflow::backlog ? closed_backlog : closed_process_buffer;
  }

  observability::ProxyMetrics& all;  // the unlabelled ones
  observability::Counter& to_client;
  observability::Counter& to_upstream;
  observability::Counter& connect_ok;
  observability::Counter& connect_failed;
  observability::Counter& closed_write_timeout;
  observability::Counter& closed_backlog;
  observability::Counter& closed_process_buffer;
  std::array<observability::Counter*, gapless::kCountedKinds> backfilled{};
  std::array<observability::Counter*, gapless::kCountedKinds> duplicates_dropped{};
  std::array<observability::Counter*, gapless::kCountedKinds> unfilled_gaps{};
};

}  // namespace vixy::ws
