#pragma once
// An HTTP/1.1 message header as one contiguous string, to be written with its body as two plain
// buffers. Beast's serializer hands the write loop a nested view over every field (name, ": ",
// value, CRLF each), which the loop walks again for each partial write: in a profile of vixy under
// load that walk was 13 % of the process's samples. The text is what Beast's serializer writes.

#include <string>

#include <boost/beast/http/message.hpp>

namespace vixy::http {

std::string flat_header(const boost::beast::http::response_header<>& header);
std::string flat_header(const boost::beast::http::request_header<>& header);

}  // namespace vixy::http
