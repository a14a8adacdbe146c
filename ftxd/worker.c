/*
 * worker.c - elastic thread pool.  See worker.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ftx_limits.h"
#include "log.h"
#include "str.h"
#include "worker.h"

/* An idle thread above the minimum exits after this long. */
#define WORKER_IDLE_EXIT_S 30

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cv_exit = PTHREAD_COND_INITIALIZER;
static struct job *q_head, *q_tail; /* waiting to run */
static struct job *done_head, *done_tail; /* finished, for the loop */
static int nthreads, nidle, nmin, nmax, pending, qlen, stopping;
static int efd = -1;

static void
push(struct job **head, struct job **tail, struct job *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct job *
pop(struct job **head, struct job **tail)
{
	struct job *j = *head;

	if (j != NULL) {
		*head = j->next;
		if (*head == NULL)
			*tail = NULL;
	}
	return j;
}

static int
wait_for_work(void)
{
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WORKER_IDLE_EXIT_S;
	nidle++;
	rc = pthread_cond_timedwait(&cv_work, &mu, &ts);
	nidle--;
	return rc;
}

static void *
worker_main(void *arg)
{
	uint64_t one = 1;
	struct job *j;

	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (q_head == NULL && !stopping) {
			if (wait_for_work() == ETIMEDOUT && q_head == NULL &&
			    nthreads > nmin)
				goto out;
		}
		if ((j = pop(&q_head, &q_tail)) == NULL)
			break; /* stopping and nothing left to do */
		qlen--;
		pthread_mutex_unlock(&mu);
		j->run(j);
		pthread_mutex_lock(&mu);
		push(&done_head, &done_tail, j);
		/* The loop reads the eventfd; a failed write would only
		 * happen at counter overflow, which cannot occur here. */
		if (write(efd, &one, sizeof(one)) != sizeof(one))
			abort();
	}
out:
	pthread_mutex_unlock(&mu);
	/* Threads are detached: release OpenSSL's per-thread state (the
	 * token RNG) before worker_stop() can see us gone and exit. */
	OPENSSL_thread_stop();
	pthread_mutex_lock(&mu);
	nthreads--;
	pthread_cond_broadcast(&cv_exit);
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* Called with mu held. */
static int
spawn(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (pthread_attr_init(&attr) != 0)
		return -1;
	pthread_attr_setstacksize(&attr, FTX_WORKER_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, worker_main, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -1;
	nthreads++;
	return 0;
}

int
worker_start(int min, int max, char *err, size_t errlen)
{
	int i;

	if (min < 1 || max < min)
		return str_err(
		    err, errlen, "bad worker counts %d..%d", min, max);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd == -1)
		return str_err(err, errlen, "eventfd: %s", strerror(errno));
	nmin = min;
	nmax = max;
	pthread_mutex_lock(&mu);
	for (i = 0; i < min; i++) {
		if (spawn() == -1) {
			pthread_mutex_unlock(&mu);
			return str_err(err, errlen, "cannot start workers");
		}
	}
	pthread_mutex_unlock(&mu);
	return 0;
}

int
worker_fd(void)
{
	return efd;
}

int
worker_submit(struct job *j)
{
	int rc = 0;

	pthread_mutex_lock(&mu);
	/* Start a thread when the idle ones are already spoken for by
	 * queued jobs; with none at all and none startable, fail. */
	if (qlen >= nidle && nthreads < nmax && spawn() == -1 && nthreads == 0)
		rc = -1;
	if (rc == 0) {
		push(&q_head, &q_tail, j);
		qlen++;
		pending++;
		pthread_cond_signal(&cv_work);
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

void
worker_drain(void)
{
	struct job *j;
	uint64_t n;

	if (read(efd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_msg(NULL, "eventfd read: %s", strerror(errno));
	for (;;) {
		pthread_mutex_lock(&mu);
		j = pop(&done_head, &done_tail);
		if (j != NULL)
			pending--;
		pthread_mutex_unlock(&mu);
		if (j == NULL)
			break;
		j->done(j);
	}
}

int
worker_pending(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = pending;
	pthread_mutex_unlock(&mu);
	return n;
}

void
worker_stop(void)
{
	pthread_mutex_lock(&mu);
	stopping = 1;
	pthread_cond_broadcast(&cv_work);
	while (nthreads > 0)
		pthread_cond_wait(&cv_exit, &mu);
	pthread_mutex_unlock(&mu);
	if (efd != -1)
		close(efd);
	efd = -1;
}
