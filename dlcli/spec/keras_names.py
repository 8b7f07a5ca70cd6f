"""Names and constructor arguments of Keras 3 layers, callbacks, optimizers, activations... so a
spec is checked without importing Keras.

Generated from keras 3.15.1 by `python -m dlcli.spec.keras_names`, which rewrites
everything above the generator at the end of this file from the installed Keras;
tests/test_keras_names.py fails when the installed Keras gives different tables.
Lambda, InputLayer and the framework wrappers are left out: a YAML spec cannot express them.
"""

from __future__ import annotations

# keras.layers classes a spec may name.
LAYERS = frozenset((
    'Activation', 'ActivityRegularization', 'AdaptiveAveragePooling1D', 'AdaptiveAveragePooling2D',
    'AdaptiveAveragePooling3D', 'AdaptiveMaxPooling1D', 'AdaptiveMaxPooling2D',
    'AdaptiveMaxPooling3D', 'Add', 'AdditiveAttention', 'AlphaDropout', 'Attention', 'AugMix',
    'AutoContrast', 'Average', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D',
    'AvgPool1D', 'AvgPool2D', 'AvgPool3D', 'BatchNormalization', 'Bidirectional',
    'CategoryEncoding', 'CenterCrop', 'Concatenate', 'ContrastLimitedAdaptiveHistogramEqualization',
    'Conv1D', 'Conv1DTranspose', 'Conv2D', 'Conv2DTranspose', 'Conv3D', 'Conv3DTranspose',
    'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D', 'Convolution1D', 'Convolution1DTranspose',
    'Convolution2D', 'Convolution2DTranspose', 'Convolution3D', 'Convolution3DTranspose',
    'Cropping1D', 'Cropping2D', 'Cropping3D', 'CutMix', 'Dense', 'DepthwiseConv1D',
    'DepthwiseConv2D', 'Discretization', 'Dot', 'Dropout', 'ELU', 'EinsumDense', 'Embedding',
    'Equalization', 'Flatten', 'GRU', 'GRUCell', 'GaussianDropout', 'GaussianNoise',
    'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalAveragePooling3D', 'GlobalAvgPool1D',
    'GlobalAvgPool2D', 'GlobalAvgPool3D', 'GlobalMaxPool1D', 'GlobalMaxPool2D', 'GlobalMaxPool3D',
    'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'GlobalMaxPooling3D', 'GroupNormalization',
    'GroupQueryAttention', 'HashedCrossing', 'Hashing', 'Identity', 'IntegerLookup', 'LSTM',
    'LSTMCell', 'LayerNormalization', 'LeakyReLU', 'Masking', 'MaxNumBoundingBoxes', 'MaxPool1D',
    'MaxPool2D', 'MaxPool3D', 'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'Maximum',
    'MelSpectrogram', 'Minimum', 'MixUp', 'MultiHeadAttention', 'Multiply', 'Normalization',
    'PReLU', 'Permute', 'Pipeline', 'RMSNormalization', 'RNN', 'RandAugment', 'RandomBrightness',
    'RandomColorDegeneration', 'RandomColorJitter', 'RandomContrast', 'RandomCrop',
    'RandomElasticTransform', 'RandomErasing', 'RandomFlip', 'RandomGaussianBlur',
    'RandomGrayscale', 'RandomHue', 'RandomInvert', 'RandomPerspective', 'RandomPosterization',
    'RandomRotation', 'RandomSaturation', 'RandomSharpness', 'RandomShear', 'RandomTranslation',
    'RandomZoom', 'ReLU', 'RepeatVector', 'Rescaling', 'Reshape', 'Resizing', 'ReversibleEmbedding',
    'STFTSpectrogram', 'SeparableConv1D', 'SeparableConv2D', 'SeparableConvolution1D',
    'SeparableConvolution2D', 'SimpleRNN', 'SimpleRNNCell', 'Softmax', 'Solarization',
    'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'SpectralNormalization',
    'StackedRNNCells', 'StringLookup', 'Subtract', 'TextVectorization', 'TimeDistributed',
    'UnitNormalization', 'UpSampling1D', 'UpSampling2D', 'UpSampling3D', 'ZeroPadding1D',
    'ZeroPadding2D', 'ZeroPadding3D',
))

# keras.optimizers classes, lower-cased.
OPTIMIZERS = frozenset((
    'adadelta', 'adafactor', 'adagrad', 'adam', 'adamax', 'adamw', 'ftrl', 'lamb', 'lion', 'muon',
    'nadam', 'rmsprop', 'schedulefreeadamw', 'sgd',
))

# What Layer.__init__ takes (its own and the legacy input_shape/input_dim it pops); a layer takes
# them when its **kwargs reach it.
LAYER_BASE_ARGUMENTS = (
    'activity_regularizer', 'autocast', 'dtype', 'input_dim', 'input_shape', 'name', 'trainable',
)

# The arguments each layer class takes through the __init__ of its classes (one name a class).
_LAYER_ARGUMENTS = {
    'Activation': (*LAYER_BASE_ARGUMENTS, 'activation'),
    'ActivityRegularization': (*LAYER_BASE_ARGUMENTS, 'l1', 'l2'),
    'AdaptiveAveragePooling1D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'AdaptiveAveragePooling2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'AdaptiveAveragePooling3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'AdaptiveMaxPooling1D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'AdaptiveMaxPooling2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'AdaptiveMaxPooling3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'Add': (*LAYER_BASE_ARGUMENTS,),
    'AdditiveAttention': (*LAYER_BASE_ARGUMENTS, 'dropout', 'score_mode', 'seed', 'use_scale'),
    'AlphaDropout': (*LAYER_BASE_ARGUMENTS, 'noise_shape', 'rate', 'seed'),
    'Attention': (*LAYER_BASE_ARGUMENTS, 'dropout', 'score_mode', 'seed', 'use_scale'),
    'AugMix': (
        *LAYER_BASE_ARGUMENTS, 'all_ops', 'alpha', 'bounding_box_format', 'chain_depth',
        'data_format', 'factor', 'interpolation', 'num_chains', 'seed', 'value_range',
    ),
    'AutoContrast': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'value_range',
    ),
    'Average': (*LAYER_BASE_ARGUMENTS,),
    'AveragePooling1D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'AveragePooling2D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'AveragePooling3D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'BatchNormalization': (
        *LAYER_BASE_ARGUMENTS, 'axis', 'beta_constraint', 'beta_initializer', 'beta_regularizer',
        'center', 'epsilon', 'gamma_constraint', 'gamma_initializer', 'gamma_regularizer',
        'momentum', 'moving_mean_initializer', 'moving_variance_initializer', 'renorm',
        'renorm_clipping', 'renorm_momentum', 'scale', 'synchronized',
    ),
    'Bidirectional': (*LAYER_BASE_ARGUMENTS, 'backward_layer', 'layer', 'merge_mode', 'weights'),
    'CategoryEncoding': (*LAYER_BASE_ARGUMENTS, 'num_tokens', 'output_mode', 'sparse'),
    'CenterCrop': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'height', 'width',
    ),
    'Concatenate': (*LAYER_BASE_ARGUMENTS, 'axis'),
    'ContrastLimitedAdaptiveHistogramEqualization': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'clip_limit', 'data_format', 'factor',
        'tile_grid_size', 'value_range',
    ),
    'Conv1D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'groups',
        'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'kernel_size',
        'lora_alpha', 'lora_rank', 'padding', 'rank', 'strides', 'use_bias',
    ),
    'Conv1DTranspose': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'kernel_constraint',
        'kernel_initializer', 'kernel_regularizer', 'kernel_size', 'output_padding', 'padding',
        'rank', 'strides', 'use_bias',
    ),
    'Conv2D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'groups',
        'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'kernel_size',
        'lora_alpha', 'lora_rank', 'padding', 'rank', 'strides', 'use_bias',
    ),
    'Conv2DTranspose': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'kernel_constraint',
        'kernel_initializer', 'kernel_regularizer', 'kernel_size', 'output_padding', 'padding',
        'rank', 'strides', 'use_bias',
    ),
    'Conv3D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'groups',
        'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'kernel_size',
        'lora_alpha', 'lora_rank', 'padding', 'rank', 'strides', 'use_bias',
    ),
    'Conv3DTranspose': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'kernel_constraint',
        'kernel_initializer', 'kernel_regularizer', 'kernel_size', 'output_padding', 'padding',
        'rank', 'strides', 'use_bias',
    ),
    'ConvLSTM1D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'data_format', 'dilation_rate', 'dropout', 'filters',
        'go_backwards', 'kernel_constraint', 'kernel_initializer', 'kernel_regularizer',
        'kernel_size', 'padding', 'rank', 'recurrent_activation', 'recurrent_constraint',
        'recurrent_dropout', 'recurrent_initializer', 'recurrent_regularizer', 'return_sequences',
        'return_state', 'seed', 'stateful', 'strides', 'unit_forget_bias', 'unroll', 'use_bias',
        'zero_output_for_mask',
    ),
    'ConvLSTM2D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'data_format', 'dilation_rate', 'dropout', 'filters',
        'go_backwards', 'kernel_constraint', 'kernel_initializer', 'kernel_regularizer',
        'kernel_size', 'padding', 'rank', 'recurrent_activation', 'recurrent_constraint',
        'recurrent_dropout', 'recurrent_initializer', 'recurrent_regularizer', 'return_sequences',
        'return_state', 'seed', 'stateful', 'strides', 'unit_forget_bias', 'unroll', 'use_bias',
        'zero_output_for_mask',
    ),
    'ConvLSTM3D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'data_format', 'dilation_rate', 'dropout', 'filters',
        'go_backwards', 'kernel_constraint', 'kernel_initializer', 'kernel_regularizer',
        'kernel_size', 'padding', 'rank', 'recurrent_activation', 'recurrent_constraint',
        'recurrent_dropout', 'recurrent_initializer', 'recurrent_regularizer', 'return_sequences',
        'return_state', 'seed', 'stateful', 'strides', 'unit_forget_bias', 'unroll', 'use_bias',
        'zero_output_for_mask',
    ),
    'Cropping1D': (*LAYER_BASE_ARGUMENTS, 'cropping'),
    'Cropping2D': (*LAYER_BASE_ARGUMENTS, 'cropping', 'data_format'),
    'Cropping3D': (*LAYER_BASE_ARGUMENTS, 'cropping', 'data_format'),
    'CutMix': (*LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed'),
    'Dense': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'kernel_constraint', 'kernel_initializer', 'kernel_regularizer',
        'lora_alpha', 'lora_rank', 'quantization_config', 'units', 'use_bias',
    ),
    'DepthwiseConv1D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'depth_multiplier', 'depthwise_constraint',
        'depthwise_initializer', 'depthwise_regularizer', 'dilation_rate', 'kernel_size', 'padding',
        'rank', 'strides', 'use_bias',
    ),
    'DepthwiseConv2D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'depth_multiplier', 'depthwise_constraint',
        'depthwise_initializer', 'depthwise_regularizer', 'dilation_rate', 'kernel_size', 'padding',
        'rank', 'strides', 'use_bias',
    ),
    'Discretization': (
        'bin_boundaries', 'dtype', 'epsilon', 'name', 'num_bins', 'output_mode', 'sparse',
    ),
    'Dot': (*LAYER_BASE_ARGUMENTS, 'axes', 'normalize'),
    'Dropout': (*LAYER_BASE_ARGUMENTS, 'noise_shape', 'rate', 'seed'),
    'ELU': (*LAYER_BASE_ARGUMENTS, 'alpha'),
    'EinsumDense': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_axes', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'equation', 'gptq_unpacked_column_size', 'kernel_constraint',
        'kernel_initializer', 'kernel_regularizer', 'lora_alpha', 'lora_rank', 'output_shape',
        'quantization_config',
    ),
    'Embedding': (
        *LAYER_BASE_ARGUMENTS, 'embeddings_constraint', 'embeddings_initializer',
        'embeddings_regularizer', 'input_length', 'lora_alpha', 'lora_rank', 'mask_zero',
        'output_dim', 'quantization_config', 'weights',
    ),
    'Equalization': (
        *LAYER_BASE_ARGUMENTS, 'bins', 'bounding_box_format', 'data_format', 'factor',
        'value_range',
    ),
    'Flatten': (*LAYER_BASE_ARGUMENTS, 'data_format'),
    'GRU': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'dropout', 'go_backwards', 'implementation',
        'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'recurrent_activation',
        'recurrent_constraint', 'recurrent_dropout', 'recurrent_initializer',
        'recurrent_regularizer', 'reset_after', 'return_sequences', 'return_state', 'seed',
        'stateful', 'units', 'unroll', 'use_bias', 'use_cudnn', 'zero_output_for_mask',
    ),
    'GRUCell': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'dropout', 'implementation', 'kernel_constraint', 'kernel_initializer',
        'kernel_regularizer', 'recurrent_activation', 'recurrent_constraint', 'recurrent_dropout',
        'recurrent_initializer', 'recurrent_regularizer', 'reset_after', 'seed', 'units',
        'use_bias',
    ),
    'GaussianDropout': (*LAYER_BASE_ARGUMENTS, 'rate', 'seed'),
    'GaussianNoise': (*LAYER_BASE_ARGUMENTS, 'seed', 'stddev'),
    'GlobalAveragePooling1D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GlobalAveragePooling2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GlobalAveragePooling3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GlobalMaxPooling1D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GlobalMaxPooling2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GlobalMaxPooling3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GroupNormalization': (
        *LAYER_BASE_ARGUMENTS, 'axis', 'beta_constraint', 'beta_initializer', 'beta_regularizer',
        'center', 'epsilon', 'gamma_constraint', 'gamma_initializer', 'gamma_regularizer', 'groups',
        'scale',
    ),
    'GroupQueryAttention': (
        *LAYER_BASE_ARGUMENTS, 'bias_constraint', 'bias_initializer', 'bias_regularizer', 'dropout',
        'flash_attention', 'head_dim', 'kernel_constraint', 'kernel_initializer',
        'kernel_regularizer', 'num_key_value_heads', 'num_query_heads', 'seed', 'sliding_window',
        'use_bias', 'use_gate',
    ),
    'HashedCrossing': ('dtype', 'name', 'num_bins', 'output_mode', 'sparse'),
    'Hashing': (*LAYER_BASE_ARGUMENTS, 'mask_value', 'num_bins', 'output_mode', 'salt', 'sparse'),
    'Identity': (*LAYER_BASE_ARGUMENTS,),
    'IntegerLookup': (
        'dtype', 'has_input_vocabulary', 'idf_weights', 'invert', 'mask_token', 'max_tokens',
        'name', 'num_oov_indices', 'oov_method', 'oov_token', 'output_mode', 'pad_to_max_tokens',
        'salt', 'sparse', 'trainable', 'vocabulary', 'vocabulary_dtype', 'vocabulary_size',
    ),
    'LSTM': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'dropout', 'go_backwards', 'implementation',
        'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'recurrent_activation',
        'recurrent_constraint', 'recurrent_dropout', 'recurrent_initializer',
        'recurrent_regularizer', 'return_sequences', 'return_state', 'seed', 'stateful',
        'unit_forget_bias', 'units', 'unroll', 'use_bias', 'use_cudnn', 'zero_output_for_mask',
    ),
    'LSTMCell': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'dropout', 'implementation', 'kernel_constraint', 'kernel_initializer',
        'kernel_regularizer', 'recurrent_activation', 'recurrent_constraint', 'recurrent_dropout',
        'recurrent_initializer', 'recurrent_regularizer', 'seed', 'unit_forget_bias', 'units',
        'use_bias',
    ),
    'LayerNormalization': (
        *LAYER_BASE_ARGUMENTS, 'axis', 'beta_constraint', 'beta_initializer', 'beta_regularizer',
        'center', 'epsilon', 'gamma_constraint', 'gamma_initializer', 'gamma_regularizer',
        'rms_scaling', 'scale',
    ),
    'LeakyReLU': (*LAYER_BASE_ARGUMENTS, 'alpha', 'negative_slope'),
    'Masking': (*LAYER_BASE_ARGUMENTS, 'mask_value'),
    'MaxNumBoundingBoxes': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_value',
        'max_number',
    ),
    'MaxPooling1D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'MaxPooling2D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'MaxPooling3D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'Maximum': (*LAYER_BASE_ARGUMENTS,),
    'MelSpectrogram': (
        *LAYER_BASE_ARGUMENTS, 'fft_length', 'mag_exp', 'max_freq', 'min_freq', 'min_power',
        'num_mel_bins', 'power_to_db', 'ref_power', 'sampling_rate', 'sequence_length',
        'sequence_stride', 'top_db', 'window',
    ),
    'Minimum': (*LAYER_BASE_ARGUMENTS,),
    'MixUp': (
        *LAYER_BASE_ARGUMENTS, 'alpha', 'bounding_box_format', 'data_format', 'factor', 'seed',
    ),
    'MultiHeadAttention': (
        *LAYER_BASE_ARGUMENTS, 'attention_axes', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'dropout', 'flash_attention', 'kernel_constraint', 'kernel_initializer',
        'kernel_regularizer', 'key_dim', 'num_heads', 'output_shape', 'seed', 'sliding_window',
        'use_bias', 'use_gate', 'value_dim',
    ),
    'Multiply': (*LAYER_BASE_ARGUMENTS,),
    'Normalization': (*LAYER_BASE_ARGUMENTS, 'axis', 'invert', 'mean', 'variance'),
    'PReLU': (
        *LAYER_BASE_ARGUMENTS, 'alpha_constraint', 'alpha_initializer', 'alpha_regularizer',
        'shared_axes',
    ),
    'Permute': (*LAYER_BASE_ARGUMENTS, 'dims'),
    'Pipeline': ('layers', 'name'),
    'RMSNormalization': (*LAYER_BASE_ARGUMENTS, 'axis', 'epsilon'),
    'RNN': (
        *LAYER_BASE_ARGUMENTS, 'cell', 'go_backwards', 'return_sequences', 'return_state',
        'stateful', 'unroll', 'zero_output_for_mask',
    ),
    'RandAugment': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'interpolation',
        'num_ops', 'seed', 'value_range',
    ),
    'RandomBrightness': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomColorDegeneration': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomColorJitter': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'brightness_factor', 'contrast_factor',
        'data_format', 'factor', 'hue_factor', 'saturation_factor', 'seed', 'value_range',
    ),
    'RandomContrast': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomCrop': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'height', 'seed',
        'width',
    ),
    'RandomElasticTransform': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_mode',
        'fill_value', 'interpolation', 'scale', 'seed', 'value_range',
    ),
    'RandomErasing': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_value',
        'scale', 'seed', 'value_range',
    ),
    'RandomFlip': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'mode', 'seed',
    ),
    'RandomGaussianBlur': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'kernel_size',
        'seed', 'sigma', 'value_range',
    ),
    'RandomGrayscale': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
    ),
    'RandomHue': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomInvert': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomPerspective': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_value',
        'interpolation', 'scale', 'seed',
    ),
    'RandomPosterization': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomRotation': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_mode',
        'fill_value', 'interpolation', 'seed',
    ),
    'RandomSaturation': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomSharpness': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomShear': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_mode',
        'fill_value', 'interpolation', 'seed', 'x_factor', 'y_factor',
    ),
    'RandomTranslation': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_mode',
        'fill_value', 'height_factor', 'interpolation', 'seed', 'width_factor',
    ),
    'RandomZoom': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_mode',
        'fill_value', 'height_factor', 'interpolation', 'seed', 'width_factor',
    ),
    'ReLU': (*LAYER_BASE_ARGUMENTS, 'max_value', 'negative_slope', 'threshold'),
    'RepeatVector': (*LAYER_BASE_ARGUMENTS, 'n'),
    'Rescaling': (*LAYER_BASE_ARGUMENTS, 'offset', 'scale'),
    'Reshape': (*LAYER_BASE_ARGUMENTS, 'target_shape'),
    'Resizing': (
        *LAYER_BASE_ARGUMENTS, 'antialias', 'bounding_box_format', 'crop_to_aspect_ratio',
        'data_format', 'factor', 'fill_mode', 'fill_value', 'height', 'interpolation',
        'pad_to_aspect_ratio', 'width',
    ),
    'ReversibleEmbedding': (
        *LAYER_BASE_ARGUMENTS, 'embeddings_constraint', 'embeddings_initializer',
        'embeddings_regularizer', 'input_length', 'logit_soft_cap', 'lora_alpha', 'lora_rank',
        'mask_zero', 'output_dim', 'quantization_config', 'reverse_dtype', 'tie_weights', 'weights',
    ),
    'STFTSpectrogram': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'expand_dims', 'fft_length', 'frame_length',
        'frame_step', 'mode', 'padding', 'periodic', 'scaling', 'window',
    ),
    'SeparableConv1D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'depth_multiplier', 'depthwise_constraint',
        'depthwise_initializer', 'depthwise_regularizer', 'dilation_rate', 'filters', 'kernel_size',
        'padding', 'pointwise_constraint', 'pointwise_initializer', 'pointwise_regularizer', 'rank',
        'strides', 'use_bias',
    ),
    'SeparableConv2D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'depth_multiplier', 'depthwise_constraint',
        'depthwise_initializer', 'depthwise_regularizer', 'dilation_rate', 'filters', 'kernel_size',
        'padding', 'pointwise_constraint', 'pointwise_initializer', 'pointwise_regularizer', 'rank',
        'strides', 'use_bias',
    ),
    'SimpleRNN': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'dropout', 'go_backwards', 'kernel_constraint',
        'kernel_initializer', 'kernel_regularizer', 'recurrent_constraint', 'recurrent_dropout',
        'recurrent_initializer', 'recurrent_regularizer', 'return_sequences', 'return_state',
        'seed', 'stateful', 'units', 'unroll', 'use_bias', 'zero_output_for_mask',
    ),
    'SimpleRNNCell': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'dropout', 'kernel_constraint', 'kernel_initializer',
        'kernel_regularizer', 'recurrent_constraint', 'recurrent_dropout', 'recurrent_initializer',
        'recurrent_regularizer', 'seed', 'units', 'use_bias',
    ),
    'Softmax': (*LAYER_BASE_ARGUMENTS, 'axis'),
    'Solarization': (
        *LAYER_BASE_ARGUMENTS, 'addition_factor', 'bounding_box_format', 'data_format', 'factor',
        'seed', 'threshold_factor', 'value_range',
    ),
    'SpatialDropout1D': ('dtype', 'name', 'rate', 'seed'),
    'SpatialDropout2D': ('data_format', 'dtype', 'name', 'rate', 'seed'),
    'SpatialDropout3D': ('data_format', 'dtype', 'name', 'rate', 'seed'),
    'SpectralNormalization': (*LAYER_BASE_ARGUMENTS, 'layer', 'power_iterations'),
    'StackedRNNCells': (*LAYER_BASE_ARGUMENTS, 'cells'),
    'StringLookup': (
        'dtype', 'encoding', 'has_input_vocabulary', 'idf_weights', 'invert', 'mask_token',
        'max_tokens', 'name', 'num_oov_indices', 'oov_method', 'oov_token', 'output_mode',
        'pad_to_max_tokens', 'salt', 'sparse', 'trainable', 'vocabulary', 'vocabulary_dtype',
        'vocabulary_size',
    ),
    'Subtract': (*LAYER_BASE_ARGUMENTS,),
    'TextVectorization': (
        *LAYER_BASE_ARGUMENTS, 'encoding', 'has_input_vocabulary', 'idf_weights', 'max_tokens',
        'ngrams', 'output_mode', 'output_sequence_length', 'pad_to_max_tokens', 'ragged', 'sparse',
        'split', 'standardize', 'vocabulary', 'vocabulary_size',
    ),
    'TimeDistributed': (*LAYER_BASE_ARGUMENTS, 'layer'),
    'UnitNormalization': (*LAYER_BASE_ARGUMENTS, 'axis'),
    'UpSampling1D': (*LAYER_BASE_ARGUMENTS, 'size'),
    'UpSampling2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'interpolation', 'size'),
    'UpSampling3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'size'),
    'ZeroPadding1D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'padding'),
    'ZeroPadding2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'padding'),
    'ZeroPadding3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'padding'),
}

# Other names of the same classes (Convolution2D is Conv2D).
LAYER_ALIASES = {
    'AvgPool1D': 'AveragePooling1D', 'AvgPool2D': 'AveragePooling2D',
    'AvgPool3D': 'AveragePooling3D', 'Convolution1D': 'Conv1D',
    'Convolution1DTranspose': 'Conv1DTranspose', 'Convolution2D': 'Conv2D',
    'Convolution2DTranspose': 'Conv2DTranspose', 'Convolution3D': 'Conv3D',
    'Convolution3DTranspose': 'Conv3DTranspose', 'GlobalAvgPool1D': 'GlobalAveragePooling1D',
    'GlobalAvgPool2D': 'GlobalAveragePooling2D', 'GlobalAvgPool3D': 'GlobalAveragePooling3D',
    'GlobalMaxPool1D': 'GlobalMaxPooling1D', 'GlobalMaxPool2D': 'GlobalMaxPooling2D',
    'GlobalMaxPool3D': 'GlobalMaxPooling3D', 'MaxPool1D': 'MaxPooling1D',
    'MaxPool2D': 'MaxPooling2D', 'MaxPool3D': 'MaxPooling3D',
    'SeparableConvolution1D': 'SeparableConv1D', 'SeparableConvolution2D': 'SeparableConv2D',
}

# The arguments of the callbacks a spec may name.
_CALLBACK_ARGUMENTS = {
    'CSVLogger': ('append', 'filename', 'separator'),
    'EarlyStopping': (
        'baseline', 'min_delta', 'mode', 'monitor', 'patience', 'restore_best_weights',
        'start_from_epoch', 'verbose',
    ),
    'ModelCheckpoint': (
        'filepath', 'initial_value_threshold', 'mode', 'monitor', 'save_best_only', 'save_freq',
        'save_weights_only', 'verbose',
    ),
    'ReduceLROnPlateau': (
        'cooldown', 'factor', 'min_delta', 'min_lr', 'mode', 'monitor', 'patience', 'verbose',
    ),
    'TensorBoard': (
        'embeddings_freq', 'embeddings_metadata', 'histogram_freq', 'log_dir', 'profile_batch',
        'update_freq', 'write_graph', 'write_images', 'write_steps_per_second',
    ),
    'TerminateOnNaN': ('raise_error',),
}

# Strings keras.activations.get accepts.
ACTIVATIONS = frozenset((
    'celu', 'elu', 'exponential', 'gelu', 'glu', 'hard_shrink', 'hard_sigmoid', 'hard_silu',
    'hard_swish', 'hard_tanh', 'leaky_relu', 'linear', 'log_sigmoid', 'log_softmax', 'mish', 'relu',
    'relu6', 'selu', 'sigmoid', 'silu', 'soft_shrink', 'softmax', 'softplus', 'softsign',
    'sparse_plus', 'sparse_sigmoid', 'sparsemax', 'squareplus', 'swish', 'tanh', 'tanh_shrink',
    'threshold',
))

# Initializer names (keras.initializers.get).
INITIALIZERS = frozenset((
    'Constant', 'GlorotNormal', 'GlorotUniform', 'HeNormal', 'HeUniform', 'Identity',
    'IdentityInitializer', 'Initializer', 'LecunNormal', 'LecunUniform', 'Ones', 'Orthogonal',
    'OrthogonalInitializer', 'RandomNormal', 'RandomUniform', 'STFT', 'STFTInitializer',
    'TruncatedNormal', 'VarianceScaling', 'Zeros', 'constant', 'glorot_normal', 'glorot_uniform',
    'he_normal', 'he_uniform', 'identity', 'initializer', 'lecun_normal', 'lecun_uniform', 'normal',
    'one', 'ones', 'orthogonal', 'random_normal', 'random_uniform', 'stft', 'truncated_normal',
    'uniform', 'variance_scaling', 'zero', 'zeros',
))

# Regularizer names (keras.regularizers.get).
REGULARIZERS = frozenset((
    'L1', 'L1L2', 'L2', 'OrthogonalRegularizer', 'Regularizer', 'l1', 'l1l2', 'l2',
    'orthogonal_regularizer', 'regularizer',
))

# Constraint names (keras.constraints.get).
CONSTRAINTS = frozenset((
    'Constraint', 'MaxNorm', 'MinMaxNorm', 'NonNeg', 'UnitNorm', 'constraint', 'max_norm',
    'min_max_norm', 'non_neg', 'unit_norm',
))

# The `padding` strings a layer accepts, where it refuses others (compared lower-cased).
_PADDINGS = {
    'AveragePooling1D': ('same', 'valid'),
    'AveragePooling2D': ('same', 'valid'),
    'AveragePooling3D': ('same', 'valid'),
    'Conv1D': ('causal', 'same', 'valid'),
    'Conv1DTranspose': ('same', 'valid'),
    'Conv2D': ('same', 'valid'),
    'Conv2DTranspose': ('same', 'valid'),
    'Conv3D': ('same', 'valid'),
    'Conv3DTranspose': ('same', 'valid'),
    'ConvLSTM1D': ('same', 'valid'),
    'ConvLSTM2D': ('same', 'valid'),
    'ConvLSTM3D': ('same', 'valid'),
    'DepthwiseConv1D': ('same', 'valid'),
    'DepthwiseConv2D': ('same', 'valid'),
    'MaxPooling1D': ('same', 'valid'),
    'MaxPooling2D': ('same', 'valid'),
    'MaxPooling3D': ('same', 'valid'),
    'STFTSpectrogram': ('same', 'valid'),
    'SeparableConv1D': ('same', 'valid'),
    'SeparableConv2D': ('same', 'valid'),
}

# Integer arguments a layer's constructor refuses at 0 and below.
_POSITIVE_INTEGERS = {
    'Conv1D': ('filters',),
    'Conv1DTranspose': ('filters',),
    'Conv2D': ('filters',),
    'Conv2DTranspose': ('filters',),
    'Conv3D': ('filters',),
    'Conv3DTranspose': ('filters',),
    'Dense': ('units',),
    'Embedding': ('input_dim', 'output_dim'),
    'GRU': ('units',),
    'GRUCell': ('units',),
    'LSTM': ('units',),
    'LSTMCell': ('units',),
    'ReversibleEmbedding': ('input_dim', 'output_dim'),
    'SeparableConv1D': ('filters',),
    'SeparableConv2D': ('filters',),
    'SimpleRNN': ('units',),
    'SimpleRNNCell': ('units',),
}


def _by_layer(table: dict) -> dict:
    """`table` keyed by every layer name, aliases included."""
    return {name: table[LAYER_ALIASES.get(name, name)] for name in LAYERS
            if LAYER_ALIASES.get(name, name) in table}


LAYER_ARGUMENTS = _by_layer({name: frozenset(args) for name, args in _LAYER_ARGUMENTS.items()})
CALLBACK_ARGUMENTS = {name: frozenset(args) for name, args in _CALLBACK_ARGUMENTS.items()}
PADDINGS = _by_layer({name: frozenset(values) for name, values in _PADDINGS.items()})
POSITIVE_INTEGERS = _by_layer(_POSITIVE_INTEGERS)

# --- The generator: `python -m dlcli.spec.keras_names` rewrites everything above this line. ---

_MARKER = "# --- The generator: "

# Not expressible in a YAML layer list: the base classes, Python code and other frameworks' models.
_NOT_LAYERS = ("FlaxLayer", "InputLayer", "JaxLayer", "Lambda", "Layer", "TFSMLayer", "TorchModuleWrapper",
               "Wrapper")
# Optimizers that wrap other optimizers, and their base class.
_NOT_OPTIMIZERS = ("LossScaleOptimizer", "MultiOptimizer", "Optimizer")
# Values for the arguments a layer needs, so that it can be made to try `padding` and `units`.
_FILLERS = {"filters": 4, "kernel_size": 3, "pool_size": 2, "units": 4, "input_dim": 10, "output_dim": 4}
_PADDINGS_TRIED = ("causal", "full", "same", "valid")
_POSITIVE_TRIED = ("filters", "input_dim", "output_dim", "units")
_WIDTH = 100


def _keyword_names(function) -> tuple[list[str], str | None]:
    """The names `function` takes by keyword (after self), and its **kwargs' name or None."""
    import inspect

    parameters = list(inspect.signature(function).parameters.values())[1:]
    named = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    var_keyword = next((p.name for p in parameters if p.kind == p.VAR_KEYWORD), None)
    return named, var_keyword


def _kwargs_use(function, kwargs: str) -> tuple[set[str], bool]:
    """The keys `function` reads from its **kwargs (pop, get, [], in), and whether it passes
    them on to super().__init__."""
    import ast
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    is_kwargs = lambda node: isinstance(node, ast.Name) and node.id == kwargs  # noqa: E731
    keys, forwarded = set(), False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr in ("pop", "get") and is_kwargs(func.value)
                    and node.args and isinstance(node.args[0], ast.Constant)):
                keys.add(node.args[0].value)
            if (isinstance(func, ast.Attribute) and func.attr == "__init__"
                    and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
                    and func.value.func.id == "super"
                    and any(k.arg is None and is_kwargs(k.value) for k in node.keywords)):
                forwarded = True
        elif (isinstance(node, ast.Subscript) and is_kwargs(node.value)
              and isinstance(node.slice, ast.Constant)):
            keys.add(node.slice.value)
        elif (isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) and len(node.ops) == 1
              and isinstance(node.ops[0], (ast.In, ast.NotIn)) and is_kwargs(node.comparators[0])):
            keys.add(node.left.value)
    return {key for key in keys if isinstance(key, str)}, forwarded


def constructor_arguments(cls, stop=None) -> tuple[set[str], bool]:
    """The keyword arguments `cls(...)` uses, walking the __init__ of its classes as Keras does: a
    class's **kwargs go on to the next __init__ in the MRO when it passes them to super().__init__;
    otherwise the chain ends there (it refuses or ignores the rest). With `stop`, the arguments
    stop's own __init__ takes are left out, and the flag says whether the chain reached it."""
    names: set[str] = set()
    classes = [c for c in cls.__mro__ if "__init__" in vars(c) and c is not object]
    for klass in classes:
        if klass is stop:
            return names, True
        named, kwargs = _keyword_names(vars(klass)["__init__"])
        names.update(named)
        if kwargs is None:
            break
        keys, forwarded = _kwargs_use(vars(klass)["__init__"], kwargs)
        names.update(keys)
        if not forwarded:
            break
    return names, False


def _quietly(make):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            make()
        except Exception:  # noqa: BLE001 - any refusal counts
            return False
    return True


def _required(cls) -> dict | None:
    """Filler values for the arguments `cls` needs, or None when one has no filler."""
    import inspect

    required = {p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
                if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if not required <= set(_FILLERS):
        return None
    return {name: _FILLERS[name] for name in required}


def _paddings(keras, cls) -> tuple[str, ...] | None:
    """The `padding` strings cls accepts, when it refuses some (None otherwise): tried in the
    constructor, or where that takes anything, on a symbolic input of the rank its name says."""
    import re

    base = _required(cls)
    if base is None:
        return None
    make = lambda padding: cls(**{**base, "padding": padding})  # noqa: E731
    if _quietly(lambda: make("not_a_padding")):
        rank = re.search(r"([123])D", cls.__name__)
        if rank is None:
            return None
        shape = (8,) * int(rank.group(1)) + (2,)
        make = lambda padding: cls(**{**base, "padding": padding})(keras.Input(shape))  # noqa: E731
        if _quietly(lambda: make("not_a_padding")):
            return None
    return tuple(padding for padding in _PADDINGS_TRIED if _quietly(lambda: make(padding))) or None


def _positive(cls, arguments: set[str]) -> tuple[str, ...]:
    """The integer arguments cls's constructor refuses at 0 and -1 but takes at 4."""
    base = _required(cls)
    if base is None:
        return ()
    return tuple(name for name in _POSITIVE_TRIED if name in arguments
                 and _quietly(lambda: cls(**{**base, name: 4}))
                 and not _quietly(lambda: cls(**{**base, name: 0}))
                 and not _quietly(lambda: cls(**{**base, name: -1})))


def generate(keras) -> dict:
    """Every table of this module, computed from the installed Keras."""
    import inspect

    from dlcli.spec.entries import CALLBACKS

    classes = {name: getattr(keras.layers, name) for name in dir(keras.layers)}
    classes = {name: cls for name, cls in classes.items() if inspect.isclass(cls)
               and issubclass(cls, keras.layers.Layer) and name not in _NOT_LAYERS}
    canonical = {}  # one name per class: its own when exported, else the first alias
    for name, cls in sorted(classes.items()):
        canonical.setdefault(cls, cls.__name__ if classes.get(cls.__name__) is cls else name)
    base, _ = constructor_arguments(keras.layers.Layer)
    layer_arguments, reaches_base, paddings, positive = {}, {}, {}, {}
    for cls, name in sorted(canonical.items(), key=lambda item: item[1]):
        own, reached = constructor_arguments(cls, stop=keras.layers.Layer)
        layer_arguments[name] = own - base if reached else own
        reaches_base[name] = reached
        arguments = own | base if reached else own
        if "padding" in arguments and (allowed := _paddings(keras, cls)):
            paddings[name] = allowed
        if found := _positive(cls, arguments):
            positive[name] = found
    optimizers = {name.lower() for name in dir(keras.optimizers)
                  if inspect.isclass(getattr(keras.optimizers, name))
                  and issubclass(getattr(keras.optimizers, name), keras.optimizers.Optimizer)
                  and name not in _NOT_OPTIMIZERS}
    callbacks = {name: constructor_arguments(getattr(keras.callbacks, name))[0] for name in CALLBACKS}
    from keras.src import activations, constraints, initializers, regularizers

    return {
        "version": keras.__version__,
        "LAYERS": set(classes),
        "OPTIMIZERS": optimizers,
        "LAYER_BASE_ARGUMENTS": base,
        "LAYER_ARGUMENTS": {name: (reaches_base[name], args) for name, args in layer_arguments.items()},
        "LAYER_ALIASES": {name: canonical[cls] for name, cls in classes.items() if canonical[cls] != name},
        "CALLBACK_ARGUMENTS": callbacks,
        "ACTIVATIONS": {name for name in activations.ALL_OBJECTS_DICT
                        if _quietly(lambda: activations.get(name))},
        "INITIALIZERS": set(initializers.ALL_OBJECTS_DICT),
        "REGULARIZERS": set(regularizers.ALL_OBJECTS_DICT),
        "CONSTRAINTS": set(constraints.ALL_OBJECTS_DICT),
        "PADDINGS": paddings,
        "POSITIVE_INTEGERS": positive,
    }


def _pack(items, indent: str, last: str = "") -> list[str]:
    """The items comma separated, wrapped at _WIDTH columns, `last` after the last one."""
    lines, line = [], ""
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else last)
        if line and len(indent) + len(line) + 1 + len(piece) > _WIDTH:
            lines.append(indent + line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    return [*lines, indent + line]


def _names(values) -> list[str]:
    return [repr(value) for value in sorted(values)]


def _frozenset(name: str, values, comment: str) -> list[str]:
    return [f"# {comment}", f"{name} = frozenset((", *_pack(_names(values), "    ", last=","), "))", ""]


def _dict(name: str, rows: dict, comment: str, splat=lambda key: False) -> list[str]:
    lines = [f"# {comment}", f"{name} = {{"]
    for key in sorted(rows):
        items = (["*LAYER_BASE_ARGUMENTS"] if splat(key) else []) + _names(rows[key])
        one = f"    {key!r}: ({', '.join(items)}{',' if len(items) == 1 else ''}),"
        if len(one) > _WIDTH:
            one = "\n".join([f"    {key!r}: (", *_pack(items, "        ", last=","), "    ),"])
        lines.append(one)
    return [*lines, "}", ""]


def render(tables: dict) -> str:
    """The generated part of this module's text."""
    layers = tables["LAYER_ARGUMENTS"]
    lines = [
        '"""Names and constructor arguments of Keras 3 layers, callbacks, optimizers, activations... so a',
        "spec is checked without importing Keras.",
        "",
        f"Generated from keras {tables['version']} by `python -m dlcli.spec.keras_names`, which rewrites",
        "everything above the generator at the end of this file from the installed Keras;",
        "tests/test_keras_names.py fails when the installed Keras gives different tables.",
        "Lambda, InputLayer and the framework wrappers are left out: a YAML spec cannot express them.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *_frozenset("LAYERS", tables["LAYERS"], "keras.layers classes a spec may name."),
        *_frozenset("OPTIMIZERS", tables["OPTIMIZERS"], "keras.optimizers classes, lower-cased."),
        "# What Layer.__init__ takes (its own and the legacy input_shape/input_dim it pops); a layer takes",
        "# them when its **kwargs reach it.",
        "LAYER_BASE_ARGUMENTS = (",
        *_pack(_names(tables["LAYER_BASE_ARGUMENTS"]), "    ", last=","),
        ")",
        "",
        *_dict("_LAYER_ARGUMENTS", {name: args for name, (_, args) in layers.items()},
               "The arguments each layer class takes through the __init__ of its classes (one name a class).",
               splat=lambda name: layers[name][0]),
        "# Other names of the same classes (Convolution2D is Conv2D).",
        "LAYER_ALIASES = {",
        *_pack([f"{alias!r}: {name!r}" for alias, name in sorted(tables["LAYER_ALIASES"].items())], "    ",
               last=","),
        "}",
        "",
        *_dict("_CALLBACK_ARGUMENTS", tables["CALLBACK_ARGUMENTS"],
               "The arguments of the callbacks a spec may name."),
        *_frozenset("ACTIVATIONS", tables["ACTIVATIONS"], "Strings keras.activations.get accepts."),
        *_frozenset("INITIALIZERS", tables["INITIALIZERS"], "Initializer names (keras.initializers.get)."),
        *_frozenset("REGULARIZERS", tables["REGULARIZERS"], "Regularizer names (keras.regularizers.get)."),
        *_frozenset("CONSTRAINTS", tables["CONSTRAINTS"], "Constraint names (keras.constraints.get)."),
        *_dict("_PADDINGS", tables["PADDINGS"],
               "The `padding` strings a layer accepts, where it refuses others (compared lower-cased)."),
        *_dict("_POSITIVE_INTEGERS", tables["POSITIVE_INTEGERS"],
               "Integer arguments a layer's constructor refuses at 0 and below."),
        "",
        "def _by_layer(table: dict) -> dict:",
        '    """`table` keyed by every layer name, aliases included."""',
        "    return {name: table[LAYER_ALIASES.get(name, name)] for name in LAYERS",
        "            if LAYER_ALIASES.get(name, name) in table}",
        "",
        "",
        "LAYER_ARGUMENTS = _by_layer({name: frozenset(args) for name, args in _LAYER_ARGUMENTS.items()})",
        "CALLBACK_ARGUMENTS = {name: frozenset(args) for name, args in _CALLBACK_ARGUMENTS.items()}",
        "PADDINGS = _by_layer({name: frozenset(values) for name, values in _PADDINGS.items()})",
        "POSITIVE_INTEGERS = _by_layer(_POSITIVE_INTEGERS)",
        "",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Rewrite the generated part of this file from the installed Keras."""
    from pathlib import Path

    from dlcli.keras_backend import import_keras

    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    generator = text[text.index("\n" + _MARKER) + 1:]
    path.write_text(render(generate(import_keras())) + generator, encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
