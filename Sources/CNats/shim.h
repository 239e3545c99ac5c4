// The NATS C client (Debian's libnats-dev), with small helpers for what is awkward from Swift:
// option structures filled in place and messages published with a de-duplication id.
#ifndef GRAPH_COLLECTOR_CNATS_SHIM_H
#define GRAPH_COLLECTOR_CNATS_SHIM_H

#include <nats/nats.h>

typedef void (*cnats_ack_handler)(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure);

/// A JetStream context whose asynchronous publishes report every acknowledgement (or failure)
/// to `handler`, with at most `maxPending` in flight, waiting up to `stallWaitMs` for a place and
/// `waitMs` for JetStream API requests.
static inline natsStatus cnats_jetstream(jsCtx **js, natsConnection *nc, int64_t maxPending, int64_t stallWaitMs,
                                         int64_t waitMs, cnats_ack_handler handler, void *closure) {
    jsOptions o;
    natsStatus s = jsOptions_Init(&o);
    if (s != NATS_OK) return s;
    o.Wait = waitMs;
    o.PublishAsync.MaxPending = maxPending;
    o.PublishAsync.StallWait = stallWaitMs;
    o.PublishAsync.AckHandler = handler;
    o.PublishAsync.AckHandlerClosure = closure;
    return natsConnection_JetStream(js, nc, &o);
}

/// Publishes `data` to `subject` asynchronously with `Nats-Msg-Id: msgId`; the acknowledgement
/// goes to the context's handler. No per-message wait: the batch waits for all of them at once
/// (cnats_publish_complete) and drops what did not come.
static inline natsStatus cnats_publish_async(jsCtx *js, const char *subject, const void *data, int length,
                                             const char *msgId) {
    natsMsg *msg = NULL;
    natsStatus s = natsMsg_Create(&msg, subject, NULL, (const char *)data, length);
    if (s != NATS_OK) return s;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msgId;
    s = js_PublishMsgAsync(js, &msg, &po);
    natsMsg_Destroy(msg);
    return s;
}

/// Waits up to `timeoutMs` for every pending publish to be acknowledged.
static inline natsStatus cnats_publish_complete(jsCtx *js, int64_t timeoutMs) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = timeoutMs;
    return js_PublishAsyncComplete(js, &po);
}

/// Forgets every publish still waiting for its acknowledgement; returns how many there were.
static inline int cnats_drop_pending(jsCtx *js) {
    natsMsgList list;
    if (js_PublishAsyncGetPendingList(&list, js) != NATS_OK) return 0;
    int count = list.Count;
    natsMsgList_Destroy(&list);
    return count;
}

/// The value of `Nats-Msg-Id` on a message, or NULL.
static inline const char *cnats_msg_id(natsMsg *msg) {
    const char *value = NULL;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &value) != NATS_OK) return NULL;
    return value;
}

/// The stream configuration `cnats_add_stream` creates: file storage, limits retention.
static inline natsStatus cnats_add_stream(jsStreamInfo **info, jsCtx *js, const char *name, const char **subjects,
                                          int subjectCount, int64_t replicas, int64_t maxAgeNs, int64_t duplicatesNs,
                                          jsErrCode *code) {
    jsStreamConfig c;
    natsStatus s = jsStreamConfig_Init(&c);
    if (s != NATS_OK) return s;
    c.Name = name;
    c.Subjects = subjects;
    c.SubjectsLen = subjectCount;
    c.Replicas = replicas;
    c.MaxAge = maxAgeNs;
    c.Duplicates = duplicatesNs;
    c.Storage = js_FileStorage;
    return js_AddStream(info, js, &c, NULL, code);
}

/// Opens the key-value bucket, creating it (file storage) when it does not exist.
static inline natsStatus cnats_key_value(kvStore **kv, jsCtx *js, const char *bucket, int64_t ttlNs, int replicas,
                                         bool create) {
    natsStatus s = js_KeyValue(kv, js, bucket);
    if (s != NATS_NOT_FOUND || !create) return s;
    kvConfig c;
    s = kvConfig_Init(&c);
    if (s != NATS_OK) return s;
    c.Bucket = bucket;
    c.TTL = ttlNs;
    c.Replicas = replicas;
    c.History = 1;
    c.StorageType = js_FileStorage;
    return js_CreateKeyValue(kv, js, &c);
}

#endif
