/* src/serve/sync_schema.h: the tero.policy.v1 sync messages (SyncRequest,
 * SyncResponse and what they hold, from
 * ../shared/conformance/policy/proto/tero/policy/v1, v1.5.0 plus v1.6.0's
 * Value.string_value) as protobuf tables for the OTLP codec
 * (src/otlp/proto.h), converted to and from their proto3 JSON mapping:
 * the sync client speaks protobuf (application/x-protobuf or gRPC) by
 * converting at the edge and keeps one JSON path inside. Enums: numbers on
 * decode; numbers only on encode (names are not in the tables). A decoded
 * SyncResponse's policies without enabled get "enabled": false: proto3
 * leaves false off the wire, and a policy document's default is true. */
#ifndef SL_SERVE_SYNC_SCHEMA_H
#define SL_SERVE_SYNC_SCHEMA_H

#include <sluice/doc.h>

typedef enum sl__sync_msg {
    SL_SYNC_MSG_REQUEST = 0, /* tero.policy.v1.SyncRequest */
    SL_SYNC_MSG_RESPONSE = 1 /* tero.policy.v1.SyncResponse */
} sl__sync_msg;

/* Protobuf message m (len bytes) as compact proto3 JSON, appended to out.
 * @return SL_OK; SL_EPARSE / SL_ESCHEMA / SL_ELIMIT for a malformed
 *         message (err names the field path and the byte offset);
 *         SL_ENOMEM. */
sl_status sl__sync_pb_to_json(sl__sync_msg m, const char *pb, size_t len,
                              sl_buf *out, sl_error *err);

/* JSON text of message m (proto3 JSON mapping, either key spelling) as
 * protobuf, appended to out. Members the schema does not know are left
 * out. @return SL_OK; the parse codes of sl_doc_load(); SL_ESCHEMA (a
 * value of the wrong type); SL_ENOMEM. */
sl_status sl__sync_pb_from_json(sl__sync_msg m, const char *json, size_t len,
                                sl_buf *out, sl_error *err);

#endif
