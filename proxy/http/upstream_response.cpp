#include "http/upstream_response.hpp"

#include <string>

#include <boost/beast/http/error.hpp>

namespace vixy::http {
namespace {

// Boost's error_category has a protected non-virtual destructor by design (categories are never
// deleted through it), which -Wnon-virtual-dtor cannot tell from a mistake.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class ResponseErrorCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "vixy.upstream_response"; }
  std::string message(int value) const override {
    switch (static_cast<ResponseError>(value)) {
      case ResponseError::switched_protocols: return "node switched protocols (101) unasked";
      case ResponseError::too_many_interim:
        return "node sent more than " + std::to_string(kMaxInterimResponses) + " interim (1xx) answers";
    }
    return "bad node answer";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& response_error_category() {
  static const ResponseErrorCategory category;
  return category;
}

UpstreamFailure classify_failure(const beast::error_code& error, bool got_some) {
  if (error == beast::error::timeout) return UpstreamFailure::timeout;
  if (error.category() == response_error_category()) return UpstreamFailure::bad_response;
  // An answer Beast refuses (conflicting framing, a header past the limit, a body on a 1xx that
  // runs into the next status line) is not a broken connection: the node spoke, wrongly.
  bool refused = error.category() == beast::error_code(bhttp::error::bad_version).category() &&
                 error != bhttp::error::end_of_stream && error != bhttp::error::partial_message;
  if (refused) return UpstreamFailure::bad_response;
  return got_some ? UpstreamFailure::after_response : UpstreamFailure::before_response;
}

}  // namespace vixy::http
