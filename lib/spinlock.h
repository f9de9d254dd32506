/**
 * @file spinlock.h
 * A test-and-set lock for the few structures that several CPUs share: the
 * console (one line at a time) and the page allocator.
 */
#ifndef HVT_SPINLOCK_H
#define HVT_SPINLOCK_H

struct spinlock {
	int locked;
};

static inline void spin_lock(struct spinlock *lock)
{
	while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

static inline void spin_unlock(struct spinlock *lock)
{
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

#endif
