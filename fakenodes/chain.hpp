#pragma once
// The deterministic chain every fake node serves. Pure functions of (seed, forks, height): nodes
// started independently with the same seed agree on every hash, like synced real nodes, and a test
// can recompute anything a node said. The head follows the wall clock, so no node needs to talk to
// another to agree on it.
//
// A fork (from_height, fork_seed) replaces the chain from from_height on: the fork's blocks get new
// hashes (and transactions, logs) derived from the fork seed and the hash of their common ancestor,
// so nodes given the same forks in the same order agree (a network-wide reorg) and a node given none
// keeps the original chain. Blocks a fork replaced stay findable by hash, as on a real node.

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vixy::fakenodes {

using json = nlohmann::json;

inline constexpr std::uint64_t kGenesisHeight = 1'000'000;   // the head at kEpochMs
inline constexpr std::int64_t kEpochMs = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
inline constexpr std::uint64_t kLogsPerBlock = 3;
inline constexpr std::uint64_t kTxsPerBlock = 2;
inline constexpr std::uint64_t kPendingTxsPerBlock = 2;

// The contracts that emit the chain's logs (log i of block h comes from kLogAddresses[(h+i)%4]) and
// the two event signatures (topic 0 of log i is kLogSignatures[i%2]: Transfer, Approval).
inline constexpr std::array<std::string_view, 4> kLogAddresses = {
    "0x1111111111111111111111111111111111111111", "0x2222222222222222222222222222222222222222",
    "0x3333333333333333333333333333333333333333", "0x4444444444444444444444444444444444444444"};
inline constexpr std::array<std::string_view, 2> kLogSignatures = {
    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
    "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"};

struct ChainParams {
  std::uint64_t seed = 0;
  std::uint64_t block_time_ms = 1000;
  std::uint64_t chain_id = 1;
};

struct Fork {
  std::uint64_t from_height = 0;  // the first height the fork replaces (at least 1)
  std::uint64_t fork_seed = 0;
  bool operator==(const Fork&) const = default;
};

// Head height at a wall-clock time: one block every block_time_ms since kEpochMs (clamped there).
std::uint64_t height_at(std::int64_t now_ms, std::uint64_t block_time_ms);
// Milliseconds since the Unix epoch, from the system clock.
std::int64_t now_ms();

class Chain {
 public:
  // A chain version: 0 is the chain without forks, v > 0 the chain after the v-th fork. A block is
  // named by its height and a version that has it (BlockRef); the current chain is the tip.
  struct BlockRef {
    std::uint64_t height = 0;
    std::size_t version = 0;
  };

  explicit Chain(ChainParams params, const std::vector<Fork>& forks = {});

  const ChainParams& params() const { return params_; }
  // Applies a fork to the current chain (throws std::invalid_argument for from_height 0).
  void fork(Fork fork);
  const std::vector<Fork>& forks() const { return forks_; }
  std::size_t tip() const { return versions_.size() - 1; }
  std::uint64_t height_at(std::int64_t now) const { return fakenodes::height_at(now, params_.block_time_ms); }
  // When the block after `height` appears (ms since the Unix epoch).
  std::int64_t next_block_ms(std::uint64_t height) const;

  // 0x + 64 hex: 24 bytes of SHA-256("vixy-block:<tag>:<h>") followed by h, big-endian. The tag
  // is the seed on the original chain, "<seed>/<16 hex>" on a fork.
  std::string block_hash(std::uint64_t height) const { return block_hash({height, tip()}); }
  std::string block_hash(BlockRef block) const;
  // The height a hash of the current chain names; nullopt for anything else.
  std::optional<std::uint64_t> height_of_hash(std::string_view hash) const;
  // Any block of any version, the current chain's first (a block a reorg replaced, too).
  std::optional<BlockRef> find_block(std::string_view hash) const;
  std::uint64_t timestamp(std::uint64_t height) const;

  json block(std::uint64_t height, bool full_transactions) const { return block({height, tip()}, full_transactions); }
  json block(BlockRef block, bool full_transactions) const;
  // The newHeads shape: block minus transactions, uncles, size.
  json header(std::uint64_t height) const { return header({height, tip()}); }
  json header(BlockRef block) const;
  std::vector<json> logs(std::uint64_t height) const { return logs({height, tip()}); }
  std::vector<json> logs(BlockRef block) const;
  json log(std::uint64_t height, std::uint64_t index) const { return log({height, tip()}, index); }
  json log(BlockRef block, std::uint64_t index) const;
  // What a log's address and event signature are, without building the log (cheap pre-filtering).
  // They depend on the height only, never on a fork.
  static std::string_view log_address(std::uint64_t height, std::uint64_t index) {
    return kLogAddresses[(height + index) % kLogAddresses.size()];
  }
  static std::string_view log_signature(std::uint64_t index) {
    return kLogSignatures[index % kLogSignatures.size()];
  }
  std::vector<std::string> transaction_hashes(std::uint64_t height) const;
  std::vector<std::string> pending_transaction_hashes(std::uint64_t height) const;
  std::string balance(std::string_view address) const;  // hex quantity, a function of the address only

  // CL view of the same clock: roots of the beacon block at a slot.
  std::string beacon_root(std::string_view what, std::uint64_t slot) const;

 private:
  struct Version {
    std::string tag;
    std::uint64_t from = 0;  // heights below come from the parent version
    std::size_t parent = 0;
  };
  // The version whose own block stands at `height` in version `version`'s chain.
  std::size_t owner(std::size_t version, std::uint64_t height) const;
  // 0x + 64 hex of SHA-256("vixy-<domain>:<tag>:<height>:<index>"), with the tag of `version`.
  std::string derived(std::size_t version, std::string_view domain, std::uint64_t height,
                      std::uint64_t index = 0) const;
  json transaction(std::size_t version, std::uint64_t height, std::uint64_t index) const;

  ChainParams params_;
  std::vector<Fork> forks_;
  std::vector<Version> versions_;
};

// SHA-256 through OpenSSL EVP.
std::array<unsigned char, 32> sha256(std::string_view data);
std::string to_hex(const unsigned char* data, std::size_t size);  // "0x" + lowercase hex

}  // namespace vixy::fakenodes
