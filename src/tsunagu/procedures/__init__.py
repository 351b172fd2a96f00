"""Online procedures and life-event one-stops (手続のオンライン化, ワンストップ): see README.md."""
