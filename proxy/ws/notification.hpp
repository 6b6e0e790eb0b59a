#pragma once
// A subscription notification as the node's multiplexer hands it to every session subscribed to
// it: checked and read once, then shared. Each session splices in its own client's subscription id
// and gives the facts to its stream, so a node message costs one parse however many sessions it
// reaches (issue 13: the fan-out must not re-parse the body per session).

#include <string>
#include <string_view>

#include "jsonrpc/raw.hpp"
#include "ws/gapless.hpp"

namespace vixy::ws {

class Notification {
 public:
  // `text` must be valid JSON with params.subscription at `subscription` (the value, quotes
  // included); `kind` is what that subscription is.
  Notification(std::string text, jsonrpc::raw::Span subscription, gapless::Kind kind)
      : text_(std::move(text)), subscription_(subscription), facts_(gapless::facts_of(kind, text_)) {}
  // The facts view text_: the object never moves.
  Notification(const Notification&) = delete;
  Notification& operator=(const Notification&) = delete;

  std::string_view text() const { return text_; }
  jsonrpc::raw::Span subscription() const { return subscription_; }
  const gapless::Facts& facts() const { return facts_; }

  // The message as one subscriber gets it: under `id` (unquoted) instead of the node's.
  std::string text_for(std::string_view id) const {
    std::string out;
    out.reserve(text_.size() + id.size());
    out.append(text_, 0, subscription_.begin);
    out += '"';
    out += id;
    out += '"';
    out.append(text_, subscription_.end);
    return out;
  }

 private:
  std::string text_;
  jsonrpc::raw::Span subscription_;
  gapless::Facts facts_;
};

}  // namespace vixy::ws
