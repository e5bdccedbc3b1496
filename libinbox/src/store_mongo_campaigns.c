/*
 * The MongoDB backend: campaigns and polls.  NOT YET IMPLEMENTED: each
 * operation answers INBOX_ERR_UNAVAILABLE saying so, so that the
 * backend links and a deployment on MongoDB refuses campaigns plainly
 * instead of losing them.  The SQLite backend (store_sqlite_campaigns.c)
 * is the reference; the contract suite's campaign tests name what this
 * file must do.
 */
#include "store_mongo.h"


static inbox_status_t
inbox_mongo_campaigns_missing(inbox_error_t *err)
{
    return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                           "campaigns and polls are not in the MongoDB "
                           "store yet; use the SQLite store for them");
}


inbox_status_t
inbox_mongo_campaign_create(inbox_store_t *store, const char *org_id,
    const inbox_campaign_new_t *c, const char *name, const char *body,
    unsigned segments, unsigned credits, int64_t now,
    inbox_campaign_t *campaign, inbox_error_t *err)
{
    return inbox_mongo_campaigns_missing(err);
}


inbox_status_t
inbox_mongo_campaign_get(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_t *campaign, inbox_error_t *err)
{
    return inbox_mongo_campaigns_missing(err);
}


inbox_status_t
inbox_mongo_campaigns_list(inbox_store_t *store, const char *org_id,
    inbox_campaign_kind_t kind, const char *cursor, unsigned limit,
    inbox_campaign_page_t *page, inbox_error_t *err)
{
    return inbox_mongo_campaigns_missing(err);
}


inbox_status_t
inbox_mongo_campaign_act(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_action_t action, int64_t now,
    inbox_campaign_t *campaign, inbox_error_t *err)
{
    return inbox_mongo_campaigns_missing(err);
}


/* Nothing to dispatch: no campaign can be made here yet. */
inbox_status_t
inbox_mongo_campaign_dispatch(inbox_store_t *store, int64_t now, size_t max,
    inbox_campaign_dispatch_t *result, inbox_event_list_t *events,
    inbox_error_t *err)
{
    return INBOX_OK;
}


inbox_status_t
inbox_mongo_poll_results(inbox_store_t *store, const char *org_id,
    const char *poll_id, inbox_poll_results_t *results, inbox_error_t *err)
{
    return inbox_mongo_campaigns_missing(err);
}


/* No campaign was sent to anyone here yet: an empty list. */
inbox_status_t
inbox_mongo_contact_campaigns(inbox_store_t *store, const char *org_id,
    const char *contact_id, inbox_contact_campaigns_t *list,
    inbox_error_t *err)
{
    return INBOX_OK;
}


inbox_status_t
inbox_mongo_contact_timezone_set(inbox_store_t *store, const char *org_id,
    const char *contact_id, const char *timezone, inbox_error_t *err)
{
    return inbox_mongo_campaigns_missing(err);
}
