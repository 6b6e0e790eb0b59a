// The workload's "hostile" object: which attacks run beside the well-behaved clients, and how hard.
#include "chaos/scenario_obj.hpp"

namespace vixy::chaos::scenario_detail {

HostileWorkload parse_hostile(const json& j, const std::string& path) {
  Obj o(j, path,
        {"slow_readers", "slow_reader_subscriptions", "nested_json_per_second", "nested_depth",
         "huge_batches_per_second", "huge_batch_size", "idle_connections", "connection_flood_per_second"});
  HostileWorkload h;
  h.slow_readers = static_cast<int>(o.integer("slow_readers", h.slow_readers, 0, 100));
  h.slow_reader_subscriptions =
      static_cast<int>(o.integer("slow_reader_subscriptions", h.slow_reader_subscriptions, 1, 10'000));
  h.nested_json_per_second = o.number("nested_json_per_second", h.nested_json_per_second, 0, 100);
  // Each level is two bytes of the request: a million levels stay well under vixy's body limit.
  h.nested_depth = static_cast<int>(o.integer("nested_depth", h.nested_depth, 2, 1'000'000));
  h.huge_batches_per_second = o.number("huge_batches_per_second", h.huge_batches_per_second, 0, 100);
  h.huge_batch_size = static_cast<int>(o.integer("huge_batch_size", h.huge_batch_size, 1, 1'000'000));
  // Every held connection is a descriptor of the harness and of the proxy (default soft limit 1024).
  h.idle_connections = static_cast<int>(o.integer("idle_connections", h.idle_connections, 0, 500));
  h.connection_flood_per_second = o.number("connection_flood_per_second", h.connection_flood_per_second, 0, 1000);
  return h;
}

json hostile_to_json(const HostileWorkload& h) {
  return {{"slow_readers", h.slow_readers},
          {"slow_reader_subscriptions", h.slow_reader_subscriptions},
          {"nested_json_per_second", h.nested_json_per_second},
          {"nested_depth", h.nested_depth},
          {"huge_batches_per_second", h.huge_batches_per_second},
          {"huge_batch_size", h.huge_batch_size},
          {"idle_connections", h.idle_connections},
          {"connection_flood_per_second", h.connection_flood_per_second}};
}

}  // namespace vixy::chaos::scenario_detail
