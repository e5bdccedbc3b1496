// The carrier API's capacity (config api): at most `lanes` sends are
// worked on at once; the others wait in turn, as at a carrier whose
// queue is longer than what it can take.  A send that joins the queue
// is told how many were waiting ahead of it.

export class Lanes {
    constructor() {
        this.busy = 0;
        this.waiting = [];      // resolvers, in turn
    }

    // Resolves, once a lane is this send's, with how many sends were
    // waiting ahead of it when it came (0 when lanes is null: no limit).
    enter({ lanes }) {
        if (lanes === null) {
            return Promise.resolve(0);
        }
        const ahead = this.waiting.length;
        if (this.busy < lanes && ahead === 0) {
            this.busy += 1;
            return Promise.resolve(0);
        }
        return new Promise((resolve) => {
            this.waiting.push(() => resolve(ahead));
        });
    }

    // The send is answered: its lane goes to the next one waiting.
    leave() {
        const next = this.waiting.shift();
        if (next) {
            next();         // the lane passes on: busy stays
        } else if (this.busy > 0) {
            this.busy -= 1;
        }
    }
}
