@NullMarked
package io.opendps.broker.http;

import org.jspecify.annotations.NullMarked;
