/*
 * A list read again as the user has it, for the Inbox's thread list and
 * the Contacts view: what they list changed in a way no event names (an
 * import's contacts.imported, events missed: a resync).  Its pages are
 * read again from the first, as many items as were shown and on to the
 * last of them, which items new to the list may have pushed down, in
 * pages of up to the API's largest; drawn in one go, the row at the top
 * of the view stays where it was on the screen.
 */
'use strict';

(function () {
    /* The pages of a list read again from its first.  list.read(cursor,
     * limit): a page ({items, next_cursor}); list.page: the list's own
     * page size, list.max the API's largest; list.count: how many items
     * were shown, list.last the last of them (null: none);
     * list.after(a, b): whether item a is listed after item b;
     * list.current(): whether the read is still wanted (a newer read, a
     * view chosen anew).  Reads on past count until the last item shown
     * is reached, list.max items more at most.  Answers the pages in
     * order, or null once the read is no longer wanted. */
    async function pages(list) {
        const read = [];
        let count = 0;
        let end = null;         /* the last item read */
        let cursor = null;
        const reached = () => list.last === null || (end !== null
            && (end.id === list.last.id || list.after(end, list.last)));
        for (;;) {
            const page = await list.read(cursor, Math.min(list.max,
                Math.max(list.page, list.count - count)));
            if (!list.current()) {
                return null;
            }
            read.push(page);
            const items = page.items || [];
            count += items.length;
            end = items.length > 0 ? items[items.length - 1] : end;
            cursor = page.next_cursor || null;
            if (!cursor || (count >= list.count && (reached()
                || count >= list.count + list.max)))
            {
                return read;
            }
        }
    }

    /* Where the list is on the screen: the row at the top of pane (the
     * first whose bottom is below the pane's top) and how far from the
     * window's top it is; null when no row is.  rows(): the list's rows,
     * top to bottom, each with its data-id. */
    function placeOf(pane, rows) {
        const top = pane.getBoundingClientRect().top;
        const anchor = rows().find((r) => r.getBoundingClientRect().bottom
                                          > top);
        return anchor ? { id: anchor.dataset.id,
                          at: anchor.getBoundingClientRect().top } : null;
    }

    /* pane scrolled so that the row of place is where it was, when the
     * list has it again. */
    function restorePlace(pane, rows, place) {
        const again = place === null ? undefined
            : rows().find((r) => r.dataset.id === place.id);
        if (again) {
            pane.scrollTop += again.getBoundingClientRect().top - place.at;
        }
    }

    /* redraw() run with the row at the top of pane kept where it was on
     * the screen, the pane scrolled by as much as it moved. */
    function keepPlace(pane, rows, redraw) {
        const place = placeOf(pane, rows);
        redraw();
        restorePlace(pane, rows, place);
    }

    window.inboxReread = Object.freeze({ pages, placeOf, restorePlace,
                                          keepPlace });
})();
