/*
 * dlist.h - the intrusive doubly linked list the loop-thread modules
 * keep their objects in: a struct with `prev` and `next` members, and a
 * head pointer.  O(1) link at the head and unlink from anywhere.
 */
#ifndef FTXD_DLIST_H
#define FTXD_DLIST_H

#include <stddef.h>

#define DLIST_LINK(head, x)                                                    \
	do {                                                                   \
		(x)->prev = NULL;                                              \
		(x)->next = (head);                                            \
		if ((head) != NULL)                                            \
			(head)->prev = (x);                                    \
		(head) = (x);                                                  \
	} while (0)

#define DLIST_UNLINK(head, x)                                                  \
	do {                                                                   \
		if ((x)->prev != NULL)                                         \
			(x)->prev->next = (x)->next;                           \
		else                                                           \
			(head) = (x)->next;                                    \
		if ((x)->next != NULL)                                         \
			(x)->next->prev = (x)->prev;                           \
	} while (0)

#endif /* FTXD_DLIST_H */
